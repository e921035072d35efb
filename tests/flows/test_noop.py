"""The shortcuts a no-op rerun takes, each against the long way round."""

import pyarrow as pa

from flows.ingest import same_actors
from transforms.schemas import ACTORS, to_table

USA = {"actor_id": "USA", "name": "United States", "type": "country", "country_code": "USA", "parent": None,
       "affiliation": None, "source": "seed", "wikidata_qid": None, "valid_from": None, "valid_to": None}
IRQ = {**USA, "actor_id": "IRQ", "name": "Iraq", "country_code": "IRQ"}


def test_same_actors_compares_rows_in_any_stored_order():
    built = to_table([IRQ, USA], ACTORS)
    assert same_actors(built, to_table([USA, IRQ], ACTORS))
    assert same_actors(ACTORS.empty_table(), ACTORS.empty_table())
    assert not same_actors(built, to_table([USA, {**IRQ, "affiliation": "USA"}], ACTORS))
    assert not same_actors(built, to_table([USA], ACTORS))
    assert not same_actors(built, pa.concat_tables([to_table([USA, IRQ], ACTORS), to_table([{**IRQ, "actor_id": "ISR"}], ACTORS)]))
