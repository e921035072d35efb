-- every sentence's offsets slice its article's text to exactly the sentence text
select s.article_id, s.sentence_id
from stg_sentences s
join stg_articles a using (article_id)
where substring(a.text, s.start_char + 1, s.end_char - s.start_char) is distinct from s.text
