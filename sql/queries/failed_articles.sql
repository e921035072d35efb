-- failed_articles: the articles whose analysis failed, with the error (what `newslake ingest` points to)
-- params:

select article_id, title, nlp_status
from articles
where nlp_status like 'failed%'
order by article_id
