-- stg_actors: the live rows of the lake table `actors`, typed as in transforms/schemas.py
-- grain: one row per actor
-- key: actor_id

select * from {{ source('actors') }}
