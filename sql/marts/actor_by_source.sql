-- actor_by_source: mentions of each actor per source (site, feed or folder)
-- grain: one row per actor per source: actor_id, source_name

with mention_rows as (
    select * from mentions where not in_near_duplicate and actor_id is not null
),

article_sources as (
    select article_id, source_name from articles
),

actor_rows as (
    select actor_id, name from actors
),

final as (
    select
        mention_rows.actor_id,
        actor_rows.name as actor_name,
        article_sources.source_name,
        count(*) as mentions,
        count(distinct mention_rows.article_id) as articles
    from mention_rows
    join article_sources using (article_id)
    left join actor_rows using (actor_id)
    group by all
)

select * from final
order by source_name, mentions desc, actor_id
