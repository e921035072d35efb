-- files: the account of every input file of every run (status: ingested | unchanged | duplicate | rejected)
-- grain: one row per input file per run: run_id, path

with files as (
    select * from stg_files
),

final as (
    select run_id, path, size, sha256, status, reason, article_id, encoding, seen_at
    from files
)

select * from final
