-- mention_contexts: every mention with the sentence around it, to read what was said
-- grain: one row per mention
-- key: article_id, mention_id
-- references: article_id -> articles.article_id
-- export: no
-- surface: the mention text as written
-- sentence: the text of the sentence that holds it
-- article_date: the article's published date where the input states one, else the day it was ingested

with mentions as (
    select * from {{ ref('int_mentions') }}
),

sentences as (
    select article_id, sentence_id, text as sentence from {{ ref('stg_sentences') }}
),

articles as (
    select article_id, title, source_name, article_date from {{ ref('int_articles') }}
),

final as (
    select
        mentions.article_id,
        mentions.mention_id,
        mentions.actor_id,
        mentions.actor_name,
        mentions.role,
        mentions.text as surface,
        sentences.sentence,
        articles.title,
        articles.source_name,
        articles.article_date
    from mentions
    inner join sentences using (article_id, sentence_id)
    inner join articles using (article_id)
)

select * from final
