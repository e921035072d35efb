-- run_summary: one run's counts, the latest run when $run is null (the report)
-- params: run

select run_id, started_at, seconds, files_seen, articles_written
from runs
where run_id = coalesce($run, (select run_id from latest_run))
