-- sentences: the sentences of every article; a line break always ends a sentence
-- grain: one row per sentence
-- key: article_id, sentence_id
-- references: article_id -> articles.article_id
-- export: no
-- sentence_id: 1-based within the article
-- start_char: 0-based offset into articles.text
-- end_char: exclusive
-- text: articles.text[start_char:end_char]

with sentences as (
    select * from {{ ref('stg_sentences') }}
),

final as (
    select article_id, sentence_id, start_char, end_char, text
    from sentences
)

select * from final
