-- every mention lies inside the sentence it names
select m.article_id, m.mention_id
from stg_mentions m
left join stg_sentences s using (article_id, sentence_id)
where s.article_id is null or m.start_char < s.start_char or m.end_char > s.end_char
