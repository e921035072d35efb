-- actors: canonical actors (countries, organisations, groups, people)
-- grain: one row per actor: actor_id

with actors as (
    select * from stg_actors
),

final as (
    select actor_id, name, type, country_code, affiliation, source, wikidata_qid
    from actors
)

select * from final
