-- stg_runs: the live rows of the lake table `runs`, typed as in transforms/schemas.py
-- grain: one row per ingest run
-- key: run_id

select * from {{ source('runs') }}
