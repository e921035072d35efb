-- mentions_per_country: mentions of each country including its places: the country itself plus its
--   subdivisions and cities (the actors whose parent it is); people and organisations with a
--   country_code are actors of their own and are not counted here
-- grain: one row per country with a counted mention of itself or of one of its places
-- key: country_id
-- references: country_id -> actors.actor_id
-- own_mentions: mentions linked to the country itself ("Iraq", "Iraqi", "Baghdad" as the government)
-- place_mentions: mentions linked to its subdivisions and cities ("Basra", "N.J.")
-- places: how many of its subdivisions and cities are mentioned
-- articles: articles that mention the country or any of its places

with actor_mentions as (
    select * from {{ ref('int_actor_mentions') }}
),

actors as (
    select actor_id, name, type, parent from {{ ref('int_actors') }}
),

rolled_up as (
    select
        coalesce(actors.parent, actor_mentions.actor_id) as country_id,
        actors.parent is not null as is_place,
        actor_mentions.actor_id,
        actor_mentions.article_id
    from actor_mentions
    inner join actors using (actor_id)
    where actors.type = 'country' or actors.parent is not null
),

final as (
    select
        rolled_up.country_id,
        countries.name as country_name,
        count(*) as mentions,
        count(*) filter (where not rolled_up.is_place) as own_mentions,
        count(*) filter (where rolled_up.is_place) as place_mentions,
        count(distinct rolled_up.actor_id) filter (where rolled_up.is_place) as places,
        count(distinct rolled_up.article_id) as articles
    from rolled_up
    left join actors as countries on countries.actor_id = rolled_up.country_id
    group by all
)

select * from final
