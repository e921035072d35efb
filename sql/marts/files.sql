-- files: the account of every input file of every run
-- status: ingested | unchanged | duplicate | near_duplicate | non_english | rejected
-- grain: one row per input file per run, or per line of a JSON-lines file: run_id, path, record

with files as (
    select * from stg_files
),

final as (
    select run_id, path, record, size, sha256, status, reason, article_id, encoding, seen_at
    from files
)

select * from final
