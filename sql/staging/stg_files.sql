-- stg_files: the live rows of the lake table `files`, typed as in transforms/schemas.py
-- grain: one row per input file per run, or per line of a JSON-lines file
-- key: run_id, path, record
-- nullable: record
-- references: run_id -> stg_runs.run_id

select * from {{ source('files') }}
