-- actor_by_source: mentions of each actor per source (site, feed or folder)
-- grain: one row per actor per source
-- key: actor_id, source_name
-- nullable: source_name
-- references: actor_id -> actors.actor_id

with actor_mentions as (
    select * from {{ ref('int_actor_mentions') }}
),

final as (
    select
        actor_id,
        actor_name,
        source_name,
        count(*) as mentions,
        count(distinct article_id) as articles
    from actor_mentions
    group by all
)

select * from final
