"""Every view on the fixture lake, with exact rows."""

from datetime import date


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_mentions_resolve_merged_people(fixture_db):
    assert rows(fixture_db, "select article_id, mention_id, actor_id, link_method, linked_actor_id from mentions where label = 'PERSON' order by all") == [
        ("a1", 2, "person:tony-blair", "model-only", "person:tony-blair"),
        ("a2", 2, "person:tony-blair", "person-merge", "person:blair"),
    ]


def test_mentions_per_actor(fixture_db):
    assert rows(fixture_db, "select * from mentions_per_actor order by mentions desc, actor_id") == [
        ("IRQ", "Iraq", "country", "IRQ", None, 2, 2, "government", "government 1", date(2026, 1, 5), date(2026, 1, 7)),
        ("person:tony-blair", "Tony Blair", "person", None, None, 2, 2, None, None, date(2026, 1, 5), date(2026, 1, 7)),
        ("USA", "United States", "country", "USA", None, 1, 1, "military", "military 1", date(2026, 1, 5), date(2026, 1, 5)),
    ]


def test_actor_roles(fixture_db):
    assert rows(fixture_db, "select actor_id, role, mentions, articles from actor_roles order by actor_id, role nulls first") == [
        ("IRQ", None, 1, 1), ("IRQ", "government", 1, 1), ("USA", "military", 1, 1), ("person:tony-blair", None, 2, 2)]


def test_actor_aliases(fixture_db):
    assert rows(fixture_db, "select actor_id, surface, mentions, link_methods from actor_aliases order by actor_id, mentions desc, surface") == [
        ("IRQ", "Iraq", 1, "dictionary"), ("IRQ", "Iraqi", 1, "alias"), ("USA", "US", 1, "alias"),
        ("person:tony-blair", "Blair", 1, "person-merge"), ("person:tony-blair", "Tony Blair", 1, "model-only"),
    ]


def test_unlinked_mentions(fixture_db):
    sql = "select surface, label, status, mentions, articles, model_actor_id from unlinked_mentions order by mentions desc, surface, label"
    assert rows(fixture_db, sql) == [
        ("Tony Blair", "PERSON", "model-only", 1, 1, "person:tony-blair"),
        ("Wombles", "ORG", "unlinked", 1, 1, None),
    ]


def test_data_tests_pass_on_fixture(fixture_lake):
    from flows import warehouse
    from flows.settings import Settings

    results = warehouse.data_tests(fixture_lake, Settings().sql_dir)
    assert len(results) == 102 and {name: n for name, n in results.items() if n} == {}


def test_actor_daily(fixture_db):
    sql = "select actor_id, article_date, date_source, mentions, articles from actor_daily order by article_date, mentions desc, actor_id"
    assert rows(fixture_db, sql) == [
        ("IRQ", date(2026, 1, 5), "published", 1, 1),
        ("USA", date(2026, 1, 5), "published", 1, 1),
        ("person:tony-blair", date(2026, 1, 5), "published", 1, 1),
        ("IRQ", date(2026, 1, 7), "ingested", 1, 1),
        ("person:tony-blair", date(2026, 1, 7), "ingested", 1, 1),
    ]


def test_actor_cooccurrence(fixture_db):
    assert rows(fixture_db, "select actor_a, actor_b, articles_together, sentences_together, articles_a, articles_b, jaccard, npmi from actor_cooccurrence "
               "order by articles_together desc, actor_a, actor_b") == [
        ("IRQ", "person:tony-blair", 2, 2, 2, 2, 1.0, 1.0),
        ("IRQ", "USA", 1, 1, 2, 1, 0.5, 0.0),
        ("USA", "person:tony-blair", 1, 1, 1, 2, 0.5, 0.0),
    ]


def test_actor_by_source(fixture_db):
    assert rows(fixture_db, "select source_name, actor_id, mentions, articles from actor_by_source order by source_name, mentions desc, actor_id") == [
        ("blog", "IRQ", 1, 1), ("blog", "person:tony-blair", 1, 1),
        ("wire", "IRQ", 1, 1), ("wire", "USA", 1, 1), ("wire", "person:tony-blair", 1, 1),
    ]


def test_article_overview(fixture_db):
    assert rows(fixture_db, "select article_id, article_date, n_actors, top_actors from article_overview order by article_date desc, article_id") == [
        ("a2", date(2026, 1, 7), 2, "Iraq (1), Tony Blair (1)"),
        ("a1", date(2026, 1, 5), 3, "Iraq (1), Tony Blair (1), United States (1)"),
    ]


def test_mention_contexts(fixture_db):
    assert rows(fixture_db, "select article_id, mention_id, actor_name, surface, sentence from mention_contexts where actor_id = 'USA'") == [
        ("a1", 1, "United States", "US", "US forces and Tony Blair. Iraq said. Blair agreed."),
    ]


def lake_of(tmp_path, tables):
    """A one-run lake of the given rows with its views built; a read-only connection to it."""
    import duckdb

    from flows import warehouse
    from flows.lake import Lake
    from flows.settings import Settings
    from transforms.schemas import TABLES, to_table

    lake = Lake(tmp_path)
    lake.commit("r1", {n: [lake.stage(n, to_table(r, TABLES[n]), "r1", "p0")] for n, r in tables.items()}, date(2026, 1, 5))
    warehouse.refresh(lake, Settings().sql_dir)
    return duckdb.connect(str(lake.duckdb_path), read_only=True)


def test_a_name_typed_two_ways_resolves_to_its_majority_type(tmp_path):
    from tests.sql.conftest import T1, actor, article, mention, run

    texts = {f"y{i}": f"Yukos shares fell {i}." for i in range(3)}
    tables = {
        "articles": [article(a, t, T1, T1, "wire") for a, t in texts.items()],
        "mentions": [mention(a, 1, "Yukos", "PERSON" if a == "y2" else "ORG", "person:yukos" if a == "y2" else "org:yukos",
                             None, "model-only", t) for a, t in texts.items()],
        "actors": [actor("org:yukos", "Yukos", "organization", source="model"), actor("person:yukos", "Yukos", "person", source="model")],
        "runs": [run("r1")],
    }
    with lake_of(tmp_path, tables) as con:
        assert rows(con, "select actor_id, canonical_id from actors order by 1") == [("org:yukos", None), ("person:yukos", "org:yukos")]
        assert rows(con, "select actor_id, mentions, articles from mentions_per_actor order by actor_id") == [("org:yukos", 3, 3)]


def test_two_merges_are_followed_to_the_full_name(tmp_path):
    from tests.sql.conftest import T1, actor, article, mention, run

    texts = {"b1": "Tony Blair spoke.", "b2": "Blair agreed.", "b3": "Blair said no.", "b4": "Blair rose."}
    links = {"b1": ("Tony Blair", "PERSON", "person:tony-blair"), "b2": ("Blair", "PERSON", "person:blair"),
             "b3": ("Blair", "PERSON", "person:blair"), "b4": ("Blair", "ORG", "org:blair")}
    tables = {
        "articles": [article(a, t, T1, T1, "wire") for a, t in texts.items()],
        "mentions": [mention(a, 1, *links[a], None, "model-only", t) for a, t in texts.items()],
        "actors": [actor("person:tony-blair", "Tony Blair", "person", source="model"), actor("person:blair", "Blair", "person", source="model"),
                   actor("org:blair", "Blair", "organization", source="model")],
        "runs": [run("r1")],
    }
    with lake_of(tmp_path, tables) as con:
        assert rows(con, "select actor_id, canonical_id from actors order by 1") == [
            ("org:blair", "person:blair"), ("person:blair", "person:tony-blair"), ("person:tony-blair", None)]
        assert rows(con, "select article_id, text, actor_id, link_method, linked_actor_id from mentions order by 1") == [
            ("b1", "Tony Blair", "person:tony-blair", "model-only", "person:tony-blair"),
            ("b2", "Blair", "person:tony-blair", "person-merge", "person:blair"),
            ("b3", "Blair", "person:tony-blair", "person-merge", "person:blair"),
            ("b4", "Blair", "person:tony-blair", "person-merge", "org:blair"),
        ]
        assert rows(con, "select actor_id, actor_name, mentions, articles from mentions_per_actor") == [("person:tony-blair", "Tony Blair", 4, 4)]
