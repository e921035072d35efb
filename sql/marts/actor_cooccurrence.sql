-- actor_cooccurrence: which actors appear together, and how much more than chance
-- grain: one row per unordered actor pair (actor_a < actor_b) that share an article
-- key: actor_a, actor_b
-- references: actor_a -> actors.actor_id, actor_b -> actors.actor_id
-- articles_a: articles that mention actor_a
-- articles_b: articles that mention actor_b
-- jaccard: articles_together / articles with either
-- npmi: normalised pointwise mutual information over articles: -1 never together, 0 independent, 1 always
--   together; ranking by npmi or jaccard keeps pairs frequent only because both actors are frequent from dominating

with actor_mentions as (
    select * from {{ ref('int_actor_mentions') }}
),

actor_names as (
    select distinct actor_id, actor_name from actor_mentions
),

article_actors as (
    select distinct article_id, actor_id from actor_mentions
),

sentence_actors as (
    select distinct article_id, sentence_id, actor_id from actor_mentions
),

totals as (
    select count(distinct article_id) as n_articles from article_actors
),

actor_articles as (
    select actor_id, count(*) as articles from article_actors group by actor_id
),

pairs as (
    select a.actor_id as actor_a, b.actor_id as actor_b, count(*) as articles_together
    from article_actors as a
    inner join article_actors as b on a.article_id = b.article_id and a.actor_id < b.actor_id
    group by all
),

sentence_pairs as (
    select a.actor_id as actor_a, b.actor_id as actor_b, count(*) as sentences_together
    from sentence_actors as a
    inner join sentence_actors as b
        on a.article_id = b.article_id and a.sentence_id = b.sentence_id and a.actor_id < b.actor_id
    group by all
),

final as (
    select
        pairs.actor_a,
        name_a.actor_name as actor_a_name,
        pairs.actor_b,
        name_b.actor_name as actor_b_name,
        pairs.articles_together,
        coalesce(sentence_pairs.sentences_together, 0) as sentences_together,
        count_a.articles as articles_a,
        count_b.articles as articles_b,
        round(pairs.articles_together / (count_a.articles + count_b.articles - pairs.articles_together), 4) as jaccard,
        round(
            case
                when pairs.articles_together = totals.n_articles then 1.0
                else ln((pairs.articles_together * totals.n_articles) / (count_a.articles * count_b.articles))
                    / -ln(pairs.articles_together / totals.n_articles)
            end, 4
        ) as npmi
    from pairs
    cross join totals
    inner join actor_articles as count_a on count_a.actor_id = pairs.actor_a
    inner join actor_articles as count_b on count_b.actor_id = pairs.actor_b
    left join sentence_pairs using (actor_a, actor_b)
    left join actor_names as name_a on name_a.actor_id = pairs.actor_a
    left join actor_names as name_b on name_b.actor_id = pairs.actor_b
)

select * from final
