-- actor_roles: mentions of each actor in each role ("US forces" -> USA, military)
-- grain: one row per actor per role
-- key: actor_id, role
-- nullable: role
-- references: actor_id -> actors.actor_id
-- role: null when no role is named

with actor_mentions as (
    select * from {{ ref('int_actor_mentions') }}
),

final as (
    select
        actor_id,
        actor_name,
        role,
        count(*) as mentions,
        count(distinct article_id) as articles
    from actor_mentions
    group by all
)

select * from final
