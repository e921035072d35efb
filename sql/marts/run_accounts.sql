-- run_accounts: how each run accounted for its inputs
-- grain: one row per run per status
-- key: run_id, status
-- references: run_id -> runs.run_id
-- files: distinct paths; a run's files_seen is the sum of files over its statuses
-- records: files and JSON lines

with files as (
    select * from {{ ref('stg_files') }}
),

runs as (
    select run_id, started_at from {{ ref('stg_runs') }}
),

final as (
    select
        files.run_id,
        runs.started_at,
        files.status,
        count(distinct files.path) as files,
        count(*) as records,
        count(distinct files.article_id) as articles
    from files
    left join runs using (run_id)
    group by all
)

select * from final
