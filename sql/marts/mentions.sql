-- mentions: named-entity mentions with the actor each refers to (actor_id null when unlinked)
-- grain: one row per mention
-- key: article_id, mention_id
-- references: article_id -> articles.article_id, actor_id -> actors.actor_id
-- export: no
-- mention_id: 1-based within the article, in text order
-- label: OntoNotes: PERSON, NORP, FAC, ORG, GPE, LOC, PRODUCT, EVENT, WORK_OF_ART, LAW, LANGUAGE
-- actor_id: after merges across articles, "Blair" alone -> Tony Blair (see actors.canonical_id); null when unlinked
-- linked_actor_id: the article-level link as written to the lake
-- in_near_duplicate: the article is a near-duplicate; the counting views leave it out

with mentions as (
    select * from {{ ref('int_mentions') }}
),

final as (
    select
        article_id,
        mention_id,
        sentence_id,
        start_char,
        end_char,
        text,
        label,
        actor_id,
        role,
        link_method,
        linked_actor_id,
        in_near_duplicate
    from mentions
)

select * from final
