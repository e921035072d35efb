-- run_accounts: how each run accounted for its inputs; files_seen = the sum of files over statuses
-- grain: one row per run per status: run_id, status

with file_rows as (
    select * from files
),

run_rows as (
    select run_id, started_at from runs
),

final as (
    select
        file_rows.run_id,
        run_rows.started_at,
        file_rows.status,
        count(distinct file_rows.path) as files,
        count(*) as records,
        count(distinct file_rows.article_id) as articles
    from file_rows
    left join run_rows using (run_id)
    group by all
)

select * from final
order by started_at desc, status
