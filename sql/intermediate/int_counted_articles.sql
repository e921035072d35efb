-- int_counted_articles: the articles the counting views count, the one definition of which articles count:
--   every article that is not a near-duplicate of another
-- grain: one row per counted article
-- key: article_id
-- references: article_id -> int_articles.article_id

with articles as (
    select * from {{ ref('int_articles') }}
),

final as (
    select article_id, source_name, article_date, date_source
    from articles
    where duplicate_of is null
)

select * from final
