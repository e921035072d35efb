-- int_mentions: every mention with the actor it refers to after merges, and that actor's name and type
-- grain: one row per mention
-- key: article_id, mention_id
-- references: actor_id -> int_actors.actor_id, article_id -> int_articles.article_id
-- actor_id: the linked actor, followed through up to two merges (org:blair -> person:blair ->
--   person:tony-blair, see int_actors.canonical_id)
-- linked_actor_id: the article-level link as written to the lake
-- in_near_duplicate: the mention's article is a near-duplicate of another

with mentions as (
    select * from {{ ref('stg_mentions') }}
),

actors as (
    select * from {{ ref('int_actors') }}
),

articles as (
    select article_id, duplicate_of from {{ ref('int_articles') }}
),

merges as (
    select first_hop.actor_id, coalesce(second_hop.canonical_id, first_hop.canonical_id) as canonical_id
    from actors as first_hop
    left join actors as second_hop on second_hop.actor_id = first_hop.canonical_id
    where first_hop.canonical_id is not null
),

resolved as (
    select
        mentions.article_id,
        mentions.mention_id,
        mentions.sentence_id,
        mentions.start_char,
        mentions.end_char,
        mentions.text,
        mentions.label,
        coalesce(merges.canonical_id, mentions.actor_id) as actor_id,
        mentions.role,
        case when merges.canonical_id is not null then 'person-merge' else mentions.link_method end as link_method,
        mentions.actor_id as linked_actor_id,
        articles.duplicate_of is not null as in_near_duplicate
    from mentions
    left join merges using (actor_id)
    left join articles using (article_id)
),

final as (
    select
        resolved.*,
        coalesce(actors.name, resolved.actor_id) as actor_name,
        actors.type as actor_type
    from resolved
    left join actors using (actor_id)
)

select * from final
