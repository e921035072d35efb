-- every linked mention points at a row of actors
select m.article_id, m.mention_id, m.actor_id
from stg_mentions m
left join stg_actors a using (actor_id)
where m.actor_id is not null and a.actor_id is null
