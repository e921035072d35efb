-- files: the account of every input file of every run
-- grain: one row per input file per run, or per line of a JSON-lines file
-- key: run_id, path, record
-- nullable: record
-- references: run_id -> runs.run_id
-- export: no
-- record: the line of a JSON-lines file; null for other files
-- status: ingested, unchanged, duplicate, near_duplicate, non_english, rejected

with files as (
    select * from {{ ref('stg_files') }}
),

final as (
    select run_id, path, record, size, sha256, status, reason, article_id, encoding, seen_at
    from files
)

select * from final
