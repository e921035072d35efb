-- stg_sentences: the live rows of the lake table `sentences`, typed as in transforms/schemas.py
-- grain: one row per sentence: article_id, sentence_id

select * from {{ source('sentences') }}
