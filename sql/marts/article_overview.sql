-- article_overview: each article with its most mentioned actors, for browsing
-- grain: one row per article
-- key: article_id
-- references: article_id -> articles.article_id
-- article_date: the article's published date where the input states one, else the day it was ingested
-- top_actors: up to five actor names with their mention counts, most mentioned first, "Iraq (15), United States (13), ..."

with articles as (
    select * from {{ ref('int_articles') }}
),

mentions as (
    select * from {{ ref('int_mentions') }}
    where actor_id is not null
),

actor_counts as (
    select article_id, actor_name, count(*) as n
    from mentions
    group by all
),

ranked as (
    select
        *,
        row_number() over (partition by article_id order by n desc, actor_name) as rank
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
        articles.article_id,
        articles.title,
        articles.source_name,
        articles.article_date,
        articles.language,
        articles.duplicate_of,
        articles.n_words,
        articles.n_sentences,
        articles.n_mentions,
        coalesce(tops.n_actors, 0) as n_actors,
        tops.top_actors,
        articles.source_uri
    from articles
    left join tops using (article_id)
)

select * from final
