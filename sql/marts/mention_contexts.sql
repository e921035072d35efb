-- mention_contexts: every linked mention with the sentence around it, to read what was said
-- grain: one row per mention: article_id, mention_id

with mention_rows as (
    select * from mentions
),

sentence_rows as (
    select article_id, sentence_id, text as sentence from sentences
),

article_rows as (
    select article_id, title, source_name, cast(coalesce(published_at, ingested_at) as date) as day from articles
),

actor_rows as (
    select actor_id, name from actors
),

final as (
    select
        mention_rows.article_id,
        mention_rows.mention_id,
        mention_rows.actor_id,
        actor_rows.name as actor_name,
        mention_rows.role,
        mention_rows.text as mention,
        sentence_rows.sentence,
        article_rows.title,
        article_rows.source_name,
        article_rows.day
    from mention_rows
    join sentence_rows using (article_id, sentence_id)
    join article_rows using (article_id)
    left join actor_rows using (actor_id)
)

select * from final
