-- runs: one summary line per ingest run, newest first
-- grain: one row per run: run_id

with runs as (
    select * from stg_runs
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
        table_versions
    from runs
)

select * from final
order by started_at desc
