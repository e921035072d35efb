-- actors_timeline: mentions of each of the named actors per day, week or month of the article date (the report)
-- params: actor_names, period

select
    actor_name,
    date_trunc($period, article_date)::date as period,
    sum(mentions)::bigint as mentions
from actor_daily
where list_contains($actor_names, actor_name)
group by all
order by period, actor_name
