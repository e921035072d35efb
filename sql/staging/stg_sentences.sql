-- stg_sentences: the live rows of the lake table `sentences`, typed as in transforms/schemas.py
-- grain: one row per sentence
-- key: article_id, sentence_id
-- references: article_id -> stg_articles.article_id

select * from {{ source('sentences') }}
