-- stg_mentions: the live rows of the lake table `mentions`, typed as in transforms/schemas.py
-- grain: one row per entity mention
-- key: article_id, mention_id
-- references: article_id -> stg_articles.article_id, actor_id -> stg_actors.actor_id

select * from {{ source('mentions') }}
