-- files: the account of every input file of every run
-- grain: one row per input file per run, or per line of a JSON-lines file, or per record of a WARC archive
-- key: run_id, path, record
-- nullable: record
-- references: run_id -> runs.run_id
-- export: no
-- record: the line of a JSON-lines file or the record (1-based ordinal) of a WARC archive; null for other files and for a WARC archive's skipped row
-- status: ingested, unchanged, duplicate, near_duplicate, non_english, rejected, skipped, deleted

with files as (
    select * from {{ ref('stg_files') }}
),

final as (
    select run_id, path, record, size, sha256, status, reason, article_id, encoding, seen_at
    from files
)

select * from final
