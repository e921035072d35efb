-- (article_id, sentence_id) is unique
select article_id, sentence_id, count(*) as n from stg_sentences group by all having count(*) > 1
