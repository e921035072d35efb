-- mentions_per_actor: how often each actor is mentioned, in how many articles, in which roles, and when
-- grain: one row per actor with at least one mention: actor_id; ordered by mentions desc
-- first_seen / last_seen use published_at where known, else the ingest date

with mention_rows as (
    select * from mentions where not in_near_duplicate
),

article_dates as (
    select article_id, cast(coalesce(published_at, ingested_at) as date) as article_date from articles
),

actor_rows as (
    select * from actors
),

roles as (
    select
        actor_id,
        string_agg(role || ' ' || n, ', ' order by n desc, role) as roles,
        arg_max(role, n) as top_role
    from (
        select actor_id, role, count(*) as n
        from mention_rows
        where actor_id is not null and role is not null
        group by all
    )
    group by actor_id
),

per_actor as (
    select
        mention_rows.actor_id,
        count(*) as mentions,
        count(distinct mention_rows.article_id) as articles,
        min(article_dates.article_date) as first_seen,
        max(article_dates.article_date) as last_seen
    from mention_rows
    join article_dates using (article_id)
    where mention_rows.actor_id is not null
    group by mention_rows.actor_id
),

final as (
    select
        per_actor.actor_id,
        coalesce(actor_rows.name, per_actor.actor_id) as actor_name,
        actor_rows.type as actor_type,
        actor_rows.country_code,
        per_actor.mentions,
        per_actor.articles,
        roles.top_role,
        roles.roles,
        per_actor.first_seen,
        per_actor.last_seen
    from per_actor
    left join actor_rows on actor_rows.actor_id = per_actor.actor_id
    left join roles on roles.actor_id = per_actor.actor_id
)

select * from final
order by mentions desc, actor_id
