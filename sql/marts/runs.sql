-- runs: one summary line per ingest run
-- grain: one row per ingest run
-- key: run_id
-- model: the spaCy package and version, or `dictionary`
-- table_versions: table -> the Delta version the run left
-- minhash_scheme: how the run's near-duplicate signatures were made (null: a run from before it was recorded)

with runs as (
    select * from {{ ref('stg_runs') }}
),

final as (
    select
        run_id,
        started_at,
        finished_at,
        date_diff('millisecond', started_at, finished_at) / 1000.0 as seconds,
        files_seen,
        records_seen,
        articles_written,
        articles_retired,
        sentences_written,
        mentions_written,
        model,
        table_versions,
        minhash_scheme
    from runs
)

select * from final
