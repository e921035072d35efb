-- int_actor_mentions: the counted mentions linked to an actor, what every per-actor view counts
-- grain: one row per counted mention of an actor
-- key: article_id, mention_id
-- references: actor_id -> int_actors.actor_id

with counted_mentions as (
    select * from {{ ref('int_counted_mentions') }}
),

final as (
    select * from counted_mentions
    where actor_id is not null
)

select * from final
