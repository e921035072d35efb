-- mentions: named-entity mentions with the actor each refers to (actor_id null when unlinked)
-- grain: one row per mention: article_id, mention_id (1-based within the article, in text order)
-- actor_id follows merges across articles ("Blair" alone -> Tony Blair, see the actors view);
-- linked_actor_id is the article-level link as written to the lake.

with mention_rows as (
    select * from stg_mentions
),

merges as (
    -- follow up to two merges: org:blair -> person:blair -> person:tony-blair
    select first_hop.actor_id, coalesce(second_hop.canonical_id, first_hop.canonical_id) as canonical_id
    from actors first_hop
    left join actors second_hop on second_hop.actor_id = first_hop.canonical_id
    where first_hop.canonical_id is not null
),

near_duplicates as (
    select article_id from stg_articles where duplicate_of is not null
),

final as (
    select
        mention_rows.article_id,
        mention_rows.mention_id,
        mention_rows.sentence_id,
        mention_rows.start_char,
        mention_rows.end_char,
        mention_rows.text,
        mention_rows.label,
        coalesce(merges.canonical_id, mention_rows.actor_id) as actor_id,
        mention_rows.role,
        case when merges.canonical_id is not null then 'person-merge' else mention_rows.link_method end as link_method,
        mention_rows.actor_id as linked_actor_id,
        near_duplicates.article_id is not null as in_near_duplicate
    from mention_rows
    left join merges using (actor_id)
    left join near_duplicates using (article_id)
)

select * from final
