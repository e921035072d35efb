-- actor_timeline: mentions of one actor (id or name) per day, week or month of the article date (`newslake timeline`)
-- params: actor, period

select
    date_trunc($period, article_date)::date as period,
    sum(mentions)::bigint as mentions,
    sum(articles)::bigint as articles,
    string_agg(distinct date_source, ', ' order by date_source) as dated_by
from actor_daily
where lower(actor_id) = lower($actor) or lower(actor_name) = lower($actor)
group by 1
order by 1
