-- strongest_pairs: the most strongly associated pairs among the $among most mentioned actors (the report)
-- params: among, min_articles, top

with leaders as (
    select actor_id
    from mentions_per_actor
    order by mentions desc, actor_id
    limit $among
)

select actor_a_name, actor_b_name, articles_together, npmi, jaccard
from actor_cooccurrence
where
    articles_together >= $min_articles
    and actor_a in (select actor_id from leaders)
    and actor_b in (select actor_id from leaders)
order by npmi desc, articles_together desc, actor_a, actor_b
limit $top
