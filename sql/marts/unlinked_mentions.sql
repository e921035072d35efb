-- unlinked_mentions: PERSON/ORG/GPE/NORP surface forms no curated actor covers, so curators know what to
--   add to seeds/actors.csv
-- grain: one row per surface form per label per status
-- key: surface, label, status
-- references: model_actor_id -> actors.actor_id, example_article_id -> articles.article_id
-- status: `unlinked`, no actor; or `model-only`, an actor made from the model's name alone

with counted_mentions as (
    select * from {{ ref('int_counted_mentions') }}
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
    from counted_mentions
    where
        label in ('PERSON', 'ORG', 'GPE', 'NORP')
        and (actor_id is null or link_method = 'model-only')
    group by all
)

select * from final
