-- int_articles: every article with its article date, the one definition of when an article happened
-- grain: one row per article
-- key: article_id
-- article_date: the date of published_at where the input states one, else of ingested_at
-- date_source: 'published' or 'ingested', which of the two article_date is

with articles as (
    select * from {{ ref('stg_articles') }}
),

final as (
    select
        *,
        cast(coalesce(published_at, ingested_at) as date) as article_date,
        case when published_at is not null then 'published' else 'ingested' end as date_source
    from articles
)

select * from final
