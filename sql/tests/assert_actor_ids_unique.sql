-- actors.actor_id is unique
select actor_id, count(*) as n from stg_actors group by actor_id having count(*) > 1
