-- actors: canonical actors (countries, regions, organisations, groups, parties, companies, people)
-- grain: one row per actor: actor_id
-- valid_from / valid_to: when a curated actor existed (null = unknown or still exists)
-- canonical_id: for a person known only by a surname ("Blair" alone in an article), the full-name
-- person with that surname who has at least 75% of that surname's articles ("Tony Blair" over
-- "Ian Blair"); null otherwise. The mentions view resolves actor_id through it.

with actors as (
    select * from stg_actors
),

person_articles as (
    select actor_id, count(distinct article_id) as n_articles
    from stg_mentions
    where actor_id like 'person:%'
    group by actor_id
),

full_names as (
    select
        actors.actor_id,
        regexp_extract(actors.name, '(\S+)$', 1) as surname,
        person_articles.n_articles
    from actors
    join person_articles using (actor_id)
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

final as (
    select
        actors.actor_id,
        actors.name,
        actors.type,
        actors.country_code,
        actors.affiliation,
        case
            when actors.type = 'person' and actors.name not like '% %' and dominant.share >= 0.75
                then dominant.canonical_id
        end as canonical_id,
        actors.source,
        actors.wikidata_qid,
        actors.valid_from,
        actors.valid_to
    from actors
    left join dominant on dominant.surname = actors.name
)

select * from final
