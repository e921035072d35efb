-- unlinked_mentions: PERSON/ORG/GPE/NORP surface forms no curated actor covers, most frequent first,
-- so curators know what to add to seeds/actors.csv
-- grain: one row per surface form per label: surface, label
-- status: 'unlinked' (no actor) or 'model-only' (an actor made from the model's name alone)

with mention_rows as (
    select * from mentions where not in_near_duplicate
),

final as (
    select
        text as surface,
        label,
        case when actor_id is null then 'unlinked' else 'model-only' end as status,
        count(*) as mentions,
        count(distinct article_id) as articles,
        any_value(actor_id) as model_actor_id,
        min(article_id) as example_article_id
    from mention_rows
    where label in ('PERSON', 'ORG', 'GPE', 'NORP')
      and (actor_id is null or link_method = 'model-only')
    group by all
)

select * from final
order by mentions desc, surface, label
