-- latest_run: the most recent run: the last started; of runs started together, the greatest run_id
-- grain: one row (none before the first run)
-- key: run_id
-- references: run_id -> runs.run_id

with runs as (
    select * from {{ ref('runs') }}
),

final as (
    select *
    from runs
    qualify row_number() over (order by started_at desc, run_id desc) = 1
)

select * from final
