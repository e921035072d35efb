-- rejection_reasons: the most frequent reasons one run rejected files for; the latest run when $run is null (the report)
-- params: run, top

select reason, count(*) as files
from files
where run_id = coalesce($run, (select run_id from latest_run)) and status = 'rejected'
group by reason
order by files desc, reason
limit $top
