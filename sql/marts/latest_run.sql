-- latest_run: the run the views read: the one whose runs row was committed last (the highest
--   table_versions['runs']), as Lake.latest_run picks it; of runs without table versions, the last started
-- grain: one row (none before the first run)
-- key: run_id
-- references: run_id -> runs.run_id

with runs as (
    select * from {{ ref('runs') }}
),

final as (
    select *
    from runs
    qualify row_number() over (order by table_versions['runs'] desc nulls last, started_at desc, run_id desc) = 1
)

select * from final
