-- stg_mentions: the live rows of the lake table `mentions`, typed as in transforms/schemas.py
-- grain: one row per entity mention: article_id, mention_id

select * from {{ source('mentions') }}
