-- file_status: where every input file stands now: its most recent account that was not "unchanged"
-- grain: one row per input file, or per line of a JSON-lines file
-- key: path, record
-- nullable: record
-- references: last_processed_run -> runs.run_id
-- export: no

with files as (
    select * from {{ ref('stg_files') }}
    where status <> 'unchanged'
),

latest as (
    select
        *,
        row_number() over (partition by path, record order by run_id desc) as recency
    from files
),

final as (
    select path, record, status, reason, article_id, encoding, sha256, size, run_id as last_processed_run
    from latest
    where recency = 1
)

select * from final
