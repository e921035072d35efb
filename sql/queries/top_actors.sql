-- top_actors: the most mentioned actors, of one type or all (`newslake actors`, the report's top actors)
-- params: type, top

select actor_id, actor_name, actor_type, mentions, articles, top_role, first_seen, last_seen
from mentions_per_actor
where $type is null or actor_type = $type
order by mentions desc, actor_id
limit $top
