-- actor_aliases: every surface form seen for each actor, with how it was linked
-- grain: one row per actor per surface form
-- key: actor_id, surface
-- references: actor_id -> actors.actor_id
-- surface: the mention text as written

with actor_mentions as (
    select * from {{ ref('int_actor_mentions') }}
),

final as (
    select
        actor_id,
        actor_name,
        text as surface,
        count(*) as mentions,
        count(distinct article_id) as articles,
        string_agg(distinct link_method, ', ' order by link_method) as link_methods
    from actor_mentions
    group by actor_id, actor_name, text
)

select * from final
