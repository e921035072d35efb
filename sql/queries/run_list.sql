-- run_list: every run with its counts, newest first (`newslake runs`)
-- params:

select
    run_id,
    started_at,
    seconds,
    files_seen,
    records_seen,
    articles_written,
    articles_retired,
    sentences_written,
    mentions_written
from runs
order by started_at desc, run_id desc
