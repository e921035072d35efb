-- actor_daily: mentions of each actor per article date, for time series
-- grain: one row per actor per article date per date source
-- key: actor_id, article_date, date_source
-- references: actor_id -> actors.actor_id
-- article_date: the article's published date where the input states one, else the day it was ingested
-- date_source: `published` or `ingested`

with actor_mentions as (
    select * from {{ ref('int_actor_mentions') }}
),

final as (
    select
        actor_id,
        actor_name,
        article_date,
        date_source,
        count(*) as mentions,
        count(distinct article_id) as articles
    from actor_mentions
    group by all
)

select * from final
