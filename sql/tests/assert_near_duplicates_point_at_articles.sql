-- duplicate_of names an article that exists and is not itself
select a.article_id, a.duplicate_of
from stg_articles a
left join stg_articles d on d.article_id = a.duplicate_of
where a.duplicate_of is not null and (d.article_id is null or a.duplicate_of = a.article_id)
