-- articles: every distinct article with its normalised text (all offsets point into `text`); near-duplicates
--   are kept with duplicate_of set, and left out of the counting views
-- grain: one row per distinct article
-- key: article_id
-- references: duplicate_of -> articles.article_id
-- export: no
-- article_id: 16 hex of SHA-256 of the normalised text
-- text: every offset points into it; starts with the title
-- source_uri: URL, or the first file that carried it, `#L<n>` for a JSON line
-- published_at: null when unknown
-- duplicate_of: the article this one nearly repeats

with articles as (
    select * from {{ ref('stg_articles') }}
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
