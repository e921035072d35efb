-- stg_files: the live rows of the lake table `files`, typed as in transforms/schemas.py
-- grain: one row per input file per run: run_id, path

select * from {{ source('files') }}
