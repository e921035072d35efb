-- mentions_per_actor: how often each actor is mentioned, and in how many articles
-- grain: one row per actor with at least one mention: actor_id

with mentions as (
    select * from stg_mentions
),

actors as (
    select * from stg_actors
),

per_actor as (
    select
        actor_id,
        count(*) as mentions,
        count(distinct article_id) as articles
    from mentions
    where actor_id is not null
    group by actor_id
),

final as (
    select
        per_actor.actor_id,
        coalesce(actors.name, per_actor.actor_id) as actor_name,
        actors.type as actor_type,
        per_actor.mentions,
        per_actor.articles
    from per_actor
    left join actors on actors.actor_id = per_actor.actor_id
)

select * from final
order by mentions desc, actor_id
