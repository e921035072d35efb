-- actor_roles: mentions of each actor in each role ("US forces" -> USA, military)
-- grain: one row per actor per role (role null = no role named): actor_id, role

with mention_rows as (
    select * from mentions where not in_near_duplicate
),

actor_rows as (
    select actor_id, name from actors
),

final as (
    select
        mention_rows.actor_id,
        actor_rows.name as actor_name,
        mention_rows.role,
        count(*) as mentions,
        count(distinct mention_rows.article_id) as articles
    from mention_rows
    left join actor_rows using (actor_id)
    where mention_rows.actor_id is not null
    group by all
)

select * from final
order by actor_id, mentions desc
