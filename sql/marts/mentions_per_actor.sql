-- mentions_per_actor: how often each actor is mentioned, in how many articles, in which roles, and when
-- grain: one row per mentioned actor
-- key: actor_id
-- references: actor_id -> actors.actor_id, parent -> actors.actor_id
-- parent: a subdivision's or city's country (see mentions_per_country for the roll-up)
-- top_role: the role named most often; of equals, the first alphabetically
-- roles: every role with its mentions, "government 12, military 5"
-- first_seen: the earliest article_date of its mentions
-- last_seen: the latest article_date of its mentions

with actor_mentions as (
    select * from {{ ref('int_actor_mentions') }}
),

actors as (
    select actor_id, country_code, parent from {{ ref('int_actors') }}
),

role_counts as (
    select actor_id, role, count(*) as n
    from actor_mentions
    where role is not null
    group by all
),

roles as (
    select
        actor_id,
        string_agg(role || ' ' || n, ', ' order by n desc, role) as roles,
        first(role order by n desc, role) as top_role
    from role_counts
    group by actor_id
),

per_actor as (
    select
        actor_id,
        actor_name,
        actor_type,
        count(*) as mentions,
        count(distinct article_id) as articles,
        min(article_date) as first_seen,
        max(article_date) as last_seen
    from actor_mentions
    group by all
),

final as (
    select
        per_actor.actor_id,
        per_actor.actor_name,
        per_actor.actor_type,
        actors.country_code,
        actors.parent,
        per_actor.mentions,
        per_actor.articles,
        roles.top_role,
        roles.roles,
        per_actor.first_seen,
        per_actor.last_seen
    from per_actor
    left join actors on actors.actor_id = per_actor.actor_id
    left join roles on roles.actor_id = per_actor.actor_id
)

select * from final
