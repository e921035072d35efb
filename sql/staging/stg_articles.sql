-- stg_articles: the live rows of the lake table `articles`, typed as in transforms/schemas.py
-- grain: one row per distinct article
-- key: article_id
-- references: duplicate_of -> stg_articles.article_id

select * from {{ source('articles') }}
