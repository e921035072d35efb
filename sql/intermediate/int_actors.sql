-- int_actors: every actor with the actor it is merged into
-- grain: one row per actor
-- key: actor_id
-- references: canonical_id -> int_actors.actor_id, parent -> int_actors.actor_id
-- parent: a subdivision's or city's country (alpha-3); null for every other actor
-- canonical_id: for a person known only by a surname ("Blair" alone in an article), the full-name
--   person with that surname who has at least 75% of that surname's articles ("Tony Blair" over
--   "Ian Blair"); or, for a name the model typed two ways in different articles (person:yukos and
--   org:yukos), the id with more articles; null otherwise

with actors as (
    select * from {{ ref('stg_actors') }}
),

actor_articles as (
    select actor_id, count(distinct article_id) as n_articles
    from {{ ref('stg_mentions') }}
    where actor_id is not null
    group by actor_id
),

full_names as (
    select
        actors.actor_id,
        regexp_extract(actors.name, '(\S+)$', 1) as surname,
        actor_articles.n_articles
    from actors
    inner join actor_articles using (actor_id)
    where actors.type = 'person' and actors.name like '% %'
),

dominant as (
    select
        surname,
        arg_max(actor_id, n_articles) as canonical_id,
        max(n_articles) / sum(n_articles) as share
    from full_names
    group by surname
),

name_twins as (
    select
        lower(actors.name) as name_key,
        first(actors.actor_id order by coalesce(actor_articles.n_articles, 0) desc, actors.actor_id) as canonical_id
    from actors
    left join actor_articles using (actor_id)
    where actors.source = 'model'
    group by lower(actors.name)
    having count(*) > 1
),

final as (
    select
        actors.actor_id,
        actors.name,
        actors.type,
        actors.country_code,
        actors.parent,
        actors.affiliation,
        case
            when actors.type = 'person' and actors.name not like '% %' and dominant.share >= 0.75
                then dominant.canonical_id
            when actors.source = 'model' and name_twins.canonical_id <> actors.actor_id
                then name_twins.canonical_id
        end as canonical_id,
        actors.source,
        actors.wikidata_qid,
        actors.valid_from,
        actors.valid_to
    from actors
    left join dominant on dominant.surname = actors.name
    left join name_twins on name_twins.name_key = lower(actors.name) and actors.source = 'model'
)

select * from final
