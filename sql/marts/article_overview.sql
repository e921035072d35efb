-- article_overview: each article with its most mentioned actors, for browsing
-- grain: one row per article: article_id
-- top_actors: up to five actor names with their mention counts, most mentioned first

with article_rows as (
    select * from articles
),

mention_rows as (
    select * from mentions where actor_id is not null
),

actor_rows as (
    select actor_id, name from actors
),

actor_counts as (
    select mention_rows.article_id, coalesce(actor_rows.name, mention_rows.actor_id) as actor_name, count(*) as n
    from mention_rows
    left join actor_rows using (actor_id)
    group by all
),

ranked as (
    select *, row_number() over (partition by article_id order by n desc, actor_name) as rank
    from actor_counts
),

tops as (
    select
        article_id,
        string_agg(actor_name || ' (' || n || ')', ', ' order by rank) filter (where rank <= 5) as top_actors,
        count(*) as n_actors
    from ranked
    group by article_id
),

final as (
    select
        article_rows.article_id,
        article_rows.title,
        article_rows.source_name,
        cast(coalesce(article_rows.published_at, article_rows.ingested_at) as date) as day,
        article_rows.language,
        article_rows.duplicate_of,
        article_rows.n_words,
        article_rows.n_sentences,
        article_rows.n_mentions,
        coalesce(tops.n_actors, 0) as n_actors,
        tops.top_actors,
        article_rows.source_uri
    from article_rows
    left join tops using (article_id)
)

select * from final
order by day desc, article_id
