-- pair_scores: npmi of every pair of the given actors seen together (the report's heat-map)
-- params: actor_ids

select actor_a, actor_b, npmi
from actor_cooccurrence
where list_contains($actor_ids, actor_a) and list_contains($actor_ids, actor_b)
order by actor_a, actor_b
