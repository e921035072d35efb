-- (article_id, mention_id) is unique
select article_id, mention_id, count(*) as n from stg_mentions group by all having count(*) > 1
