-- rejected_files: every file one run rejected, with the reason; the latest run when $run is null (`newslake account`)
-- params: run

select path, record, reason
from files
where run_id = coalesce($run, (select run_id from latest_run)) and status = 'rejected'
order by path, record
