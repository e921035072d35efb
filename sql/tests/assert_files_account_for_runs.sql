-- every run's files_seen equals the files accounted for in that run (nothing dropped silently)
select r.run_id, r.files_seen, count(distinct f.path) as accounted
from stg_runs r
left join stg_files f using (run_id)
group by r.run_id, r.files_seen
having count(distinct f.path) <> r.files_seen
