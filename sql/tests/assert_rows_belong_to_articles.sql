-- sentences and mentions never outlive their article
select 'sentences' as tbl, s.article_id from stg_sentences s anti join stg_articles a using (article_id)
union all
select 'mentions' as tbl, m.article_id from stg_mentions m anti join stg_articles a using (article_id)
