-- top_unlinked: the most frequent forms no curated actor covers (the report)
-- params: top

select surface, label, status, mentions
from unlinked_mentions
order by mentions desc, surface, label, status
limit $top
