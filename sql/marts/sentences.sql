-- sentences: the sentences of every article; text = articles.text[start_char:end_char] (0-based, end exclusive)
-- grain: one row per sentence: article_id, sentence_id (1-based within the article)

with sentences as (
    select * from stg_sentences
),

final as (
    select article_id, sentence_id, start_char, end_char, text
    from sentences
)

select * from final
