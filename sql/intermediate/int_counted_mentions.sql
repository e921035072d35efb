-- int_counted_mentions: the mentions in counted articles, with their article's source and date
-- grain: one row per mention in a counted article
-- key: article_id, mention_id
-- references: article_id -> int_counted_articles.article_id

with mentions as (
    select * from {{ ref('int_mentions') }}
),

counted_articles as (
    select * from {{ ref('int_counted_articles') }}
),

final as (
    select
        mentions.*,
        counted_articles.source_name,
        counted_articles.article_date,
        counted_articles.date_source
    from mentions
    inner join counted_articles using (article_id)
)

select * from final
