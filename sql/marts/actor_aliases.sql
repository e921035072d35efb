-- actor_aliases: every surface form seen for each actor, with how it was linked
-- grain: one row per actor per surface form: actor_id, surface

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
        mention_rows.text as surface,
        count(*) as mentions,
        count(distinct mention_rows.article_id) as articles,
        string_agg(distinct mention_rows.link_method, ', ' order by mention_rows.link_method) as link_methods
    from mention_rows
    left join actor_rows using (actor_id)
    where mention_rows.actor_id is not null
    group by all
)

select * from final
order by actor_id, mentions desc, surface
