-- actor_daily: mentions of each actor per day, for time series
-- grain: one row per actor per day per date source: actor_id, day, date_source
-- day is the article's published_at date where the input states one (date_source = 'published'),
-- else the day it was ingested (date_source = 'ingested'). Near-duplicate articles are left out.

with mention_rows as (
    select * from mentions where not in_near_duplicate and actor_id is not null
),

article_dates as (
    select
        article_id,
        cast(coalesce(published_at, ingested_at) as date) as day,
        case when published_at is not null then 'published' else 'ingested' end as date_source
    from articles
),

actor_rows as (
    select actor_id, name from actors
),

final as (
    select
        mention_rows.actor_id,
        actor_rows.name as actor_name,
        article_dates.day,
        article_dates.date_source,
        count(*) as mentions,
        count(distinct mention_rows.article_id) as articles
    from mention_rows
    join article_dates using (article_id)
    left join actor_rows using (actor_id)
    group by all
)

select * from final
order by day, mentions desc, actor_id
