-- articles: every distinct article with its normalised text (all offsets point into `text`);
-- near-duplicates are kept with duplicate_of set, and left out of the counting views
-- grain: one row per article: article_id

with articles as (
    select * from stg_articles
),

final as (
    select
        article_id,
        title,
        text,
        source_uri,
        source_name,
        published_at,
        language,
        nlp_status,
        duplicate_of,
        n_sentences,
        n_mentions,
        n_words,
        boilerplate_chars,
        encoding,
        ingested_at,
        ingest_date,
        run_id
    from articles
)

select * from final
