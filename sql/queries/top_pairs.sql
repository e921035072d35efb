-- top_pairs: actor pairs seen together in at least $min_articles articles, with one actor (id or name) or all,
--   ranked by $by: articles, npmi or jaccard (`newslake cooccurrence`)
-- params: actor, by, min_articles, top

select actor_a, actor_a_name, actor_b, actor_b_name, articles_together, sentences_together, jaccard, npmi
from actor_cooccurrence
where
    articles_together >= $min_articles
    and (
        $actor is null
        or lower($actor) in (lower(actor_a), lower(actor_b), lower(actor_a_name), lower(actor_b_name))
    )
order by
    case $by when 'npmi' then npmi when 'jaccard' then jaccard else articles_together end desc,
    actor_a,
    actor_b
limit $top
