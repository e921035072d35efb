-- mentions: named-entity mentions with the actor each is linked to (actor_id null when none)
-- grain: one row per mention: article_id, mention_id (1-based within the article, in text order)

with mentions as (
    select * from stg_mentions
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
        link_method
    from mentions
)

select * from final
