-- lake_totals: the lake's totals in one row (the report's cards and data-quality table)
-- params:

with article_totals as (
    select
        count(*) as articles,
        coalesce(sum(n_words), 0) as words,
        count(duplicate_of) as near_duplicates,
        count(*) filter (where nlp_status <> 'analysed') as not_analysed,
        coalesce(sum(boilerplate_chars), 0) as boilerplate_chars
    from articles
),

mention_totals as (
    select count(*) as mentions, count(actor_id) as linked_mentions from mentions
),

final as (
    select
        article_totals.articles,
        article_totals.words,
        (select count(*) from sentences) as sentences,
        mention_totals.mentions,
        mention_totals.linked_mentions,
        (select count(*) from mentions_per_actor) as actors_mentioned,
        (select count(*) from runs) as runs,
        (select count(distinct article_date) from actor_daily) as article_dates,
        article_totals.near_duplicates,
        article_totals.not_analysed,
        article_totals.boilerplate_chars
    from article_totals
    cross join mention_totals
)

select * from final
