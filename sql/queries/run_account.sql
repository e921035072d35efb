-- run_account: how one run accounted for its inputs, per status; the latest run when $run is null
--   (`newslake account`, the report)
-- params: run

select status, files, records, articles
from run_accounts
where run_id = coalesce($run, (select run_id from latest_run))
order by status
