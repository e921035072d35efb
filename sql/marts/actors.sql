-- actors: canonical actors (countries, subdivisions, cities, organisations, groups, parties, companies, people)
-- grain: one row per actor
-- key: actor_id
-- references: canonical_id -> actors.actor_id, parent -> actors.actor_id
-- type: country, subdivision, city, organization, armed_group, party, company, person
-- country_code: ISO 3166-1 alpha-3
-- parent: a subdivision's or city's country (its actor_id, alpha-3); null for every other actor
-- affiliation: a person's country or organisation
-- canonical_id: the actor this one is merged into: a surname into a full name, or a name's minority
--   type into its majority; the mentions view resolves actor_id through it (see int_actors)
-- source: pycountry, pycountry+seed, seed, model, gazetteer (a place the article linked: see README)
-- valid_from: when a curated actor began to exist; null when unknown
-- valid_to: when it ceased to; null when unknown or still existing

with actors as (
    select * from {{ ref('int_actors') }}
),

final as (
    select
        actor_id,
        name,
        type,
        country_code,
        parent,
        affiliation,
        canonical_id,
        source,
        wikidata_qid,
        valid_from,
        valid_to
    from actors
)

select * from final
