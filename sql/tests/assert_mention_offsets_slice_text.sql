-- every mention's offsets slice its article's text to exactly the mention text
select m.article_id, m.mention_id
from stg_mentions m
join stg_articles a using (article_id)
where substring(a.text, m.start_char + 1, m.end_char - m.start_char) is distinct from m.text
