"""The SQL project: headers, dependencies, build order, generated data tests, named queries and the lint."""

import pytest

from flows import sqllint, sqlproject
from flows.settings import Settings

SQL = Settings().sql_dir
HEADER = "-- {name}: rows\n-- grain: one row per thing\n-- key: thing_id\n"


def write(root, layer, name, body, header=HEADER):
    path = root / "sql" / layer / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header.format(name=name) + "\n" + body)
    return path


def project(tmp_path, **views):
    """A sql/ folder of staging view ``stg_things`` plus the given marts (name -> body)."""
    write(tmp_path, "staging", "stg_things", "select * from {{ source('runs') }}\n")
    for name, body in views.items():
        write(tmp_path, "marts", name, body)
    return tmp_path / "sql"


def error(sql_dir) -> str:
    with pytest.raises(sqlproject.SqlProjectError) as e:
        sqlproject.build_order(sqlproject.load_views(sql_dir))
    return str(e.value)


def test_build_order_of_the_real_views():
    assert [v.name for v in sqlproject.build_order(sqlproject.load_views(SQL))] == [
        "stg_actors", "stg_articles", "stg_files", "stg_mentions", "stg_runs", "stg_sentences",
        "int_actors", "int_articles", "int_counted_articles", "int_mentions", "int_counted_mentions", "int_actor_mentions",
        "actor_aliases", "actor_by_source", "actor_cooccurrence", "actor_daily", "actor_roles", "actors", "article_overview",
        "articles", "file_status", "files", "mention_contexts", "mentions", "mentions_per_actor", "mentions_per_country", "run_accounts", "runs",
        "latest_run", "sentences", "unlinked_mentions",
    ]


def test_every_mart_reads_the_intermediate_layer_or_staging_only():
    views = sqlproject.load_views(SQL)
    assert {v.name: v.refs for v in views.values() if v.layer == "marts"} == {
        "actor_aliases": ("int_actor_mentions",),
        "actor_by_source": ("int_actor_mentions",),
        "actor_cooccurrence": ("int_actor_mentions",),
        "actor_daily": ("int_actor_mentions",),
        "actor_roles": ("int_actor_mentions",),
        "actors": ("int_actors",),
        "article_overview": ("int_articles", "int_mentions"),
        "articles": ("stg_articles",),
        "file_status": ("stg_files",),
        "files": ("stg_files",),
        "latest_run": ("runs",),
        "mention_contexts": ("int_mentions", "stg_sentences", "int_articles"),
        "mentions": ("int_mentions",),
        "mentions_per_actor": ("int_actor_mentions", "int_actors"),
        "mentions_per_country": ("int_actor_mentions", "int_actors"),
        "run_accounts": ("stg_files", "stg_runs"),
        "runs": ("stg_runs",),
        "sentences": ("stg_sentences",),
        "unlinked_mentions": ("int_counted_mentions",),
    }


def test_header_declarations_are_read():
    view = sqlproject.load_views(SQL)["files"]
    assert (view.grain, view.key, view.nullable, view.references) == (
        "one row per input file per run, or per line of a JSON-lines file, or per record of a WARC archive", ("run_id", "path", "record"),
        ("record",), (("run_id", "runs", "run_id"),))
    assert view.header.notes == {
        "record": "the line of a JSON-lines file or the record (1-based ordinal) of a WARC archive; null for other files and for a WARC archive's skipped row",
        "status": "ingested, unchanged, duplicate, near_duplicate, non_english, rejected, skipped, deleted"}


def test_generated_tests_of_one_view():
    tests = sqlproject.generated_tests(sqlproject.load_views(SQL))
    assert {k: v for k, v in tests.items() if k in ("unique_files", "not_null_files", "relationships_files_run_id")} == {
        "unique_files": "select run_id, path, record, count(*) as n from files group by run_id, path, record having count(*) > 1",
        "not_null_files": "select run_id, path, record from files where run_id is null or path is null",
        "relationships_files_run_id": "select child.run_id from files as child where child.run_id is not null and not exists "
                                      "(select 1 from runs as parent where parent.run_id = child.run_id)",
    }


def test_a_view_in_dependency_order_whatever_its_name(tmp_path):
    sql_dir = project(tmp_path, a_last="select * from {{ ref('b_first') }}\n", b_first="select * from {{ ref('stg_things') }}\n")
    assert [v.name for v in sqlproject.build_order(sqlproject.load_views(sql_dir))] == ["stg_things", "b_first", "a_last"]


def test_an_unknown_ref_fails_in_one_line_naming_the_file(tmp_path):
    sql_dir = project(tmp_path, counts="select * from {{ ref('stg_thngs') }}\n")
    assert error(sql_dir) == "sql/marts/counts.sql: ref('stg_thngs') names no view in sql/"


def test_a_cycle_fails_in_one_line_naming_a_file_on_it(tmp_path):
    sql_dir = project(tmp_path, a="select * from {{ ref('b') }}\n", b="select * from {{ ref('c') }}\n", c="select * from {{ ref('a') }}\n")
    assert error(sql_dir) == "sql/marts/a.sql: dependency cycle a -> b -> c -> a"


def test_an_unknown_source_fails_in_one_line(tmp_path):
    sql_dir = project(tmp_path)
    write(tmp_path, "staging", "stg_things", "select * from {{ source('things') }}\n")
    assert error(sql_dir) == "sql/staging/stg_things.sql: source('things') names no lake table"


def test_layers_only_read_downwards(tmp_path):
    sql_dir = project(tmp_path, things="select * from {{ ref('stg_things') }}\n")
    write(tmp_path, "intermediate", "int_things", "select * from {{ ref('things') }}\n")
    assert error(sql_dir) == "sql/intermediate/int_things.sql: a intermediate view cannot read the marts view 'things'"


def test_headers_are_checked(tmp_path):
    sql_dir = project(tmp_path)
    write(tmp_path, "marts", "things", "select 1\n", header="-- things: rows\n-- grain: one row per thing\n")
    assert error(sql_dir) == "sql/marts/things.sql: no '-- key:' line in the header"
    write(tmp_path, "marts", "things", "select 1\n", header="-- thing: rows\n")
    assert error(sql_dir) == "sql/marts/things.sql: the first line must be '-- things: <what it holds>'"
    write(tmp_path, "marts", "things", "select 1\n", header=HEADER + "-- references: thing_id to stg_things\n")
    assert error(sql_dir) == "sql/marts/things.sql: reference 'thing_id to stg_things' is not 'column -> view.column'"


def test_the_real_sql_lints_clean():
    assert sqllint.lint(SQL) == []


def test_lint_findings_name_file_and_line(tmp_path):
    sql_dir = project(
        tmp_path,
        bare="with final as (\n    select * from stg_things\n)\n\nselect * from final\n",
        ordered="with final as (\n    select * from {{ ref('stg_things') }}\n)\n\nselect * from final\norder by thing_id\n",
        shouting="WITH final as (\n    select * from {{ ref('stg_things') }}\n)\n\nselect * from final \n",
    )
    write(tmp_path, "queries", "top", "select * from bare limit $n\n", header="-- top: the first things\n-- params: top\n")
    assert sqllint.lint(sql_dir) == [
        "sql/marts/bare.sql: reads 'stg_things' by bare name; write {{ ref('stg_things') }}",
        "sql/marts/ordered.sql: a view ends without ORDER BY (callers order what they show)",
        "sql/marts/ordered.sql: the last line must be 'select * from final'",
        "sql/marts/shouting.sql:9: trailing whitespace",
        "sql/marts/shouting.sql:5: keyword 'WITH' in upper case",
        "sql/marts/shouting.sql: the last line must be 'select * from final'",
        "sql/queries/top.sql: LIMIT without ORDER BY",
        "sql/queries/top.sql: uses parameters ['n'] but declares ['top'] ('-- params:')",
    ]


def test_a_named_query_binds_every_declared_parameter():
    sql, params = sqlproject.bind(SQL, "top_actors", {"top": 5})
    assert params == {"type": None, "top": 5} and "from mentions_per_actor" in sql
    with pytest.raises(sqlproject.SqlProjectError, match=r"^sql/queries/top_actors.sql: no parameter 'kind' \(it takes type, top\)$"):
        sqlproject.bind(SQL, "top_actors", {"kind": "person"})


def test_the_readme_views_section_is_generated_from_the_headers():
    from flows import docs
    from flows.settings import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    assert docs.updated(readme, docs.section(SQL)) == readme, "README.md's views section is out of date: run `make docs`"


def test_a_column_note_must_name_a_column(tmp_path):
    from flows import docs

    sql_dir = project(tmp_path)
    write(tmp_path, "marts", "things", "select * from {{ ref('stg_things') }}\n", header=HEADER + "-- colour: which colour\n")
    with pytest.raises(sqlproject.SqlProjectError, match=r"^sql/marts/things.sql: '-- colour:' names no column of the view$"):
        docs.section(sql_dir)


def test_a_marts_inputs_change_with_its_data_files_and_any_sql_under_it(tmp_path):
    from flows.warehouse import mart_inputs

    sql_dir = project(tmp_path, counts="select * from {{ ref('stg_things') }}\n", other="select 1 as thing_id\n")
    views = sqlproject.load_views(sql_dir)
    files = {"runs": "read_parquet(['a.parquet'])"}
    before = mart_inputs(views, "counts", files.get)
    assert mart_inputs(views, "counts", files.get) == before
    assert mart_inputs(views, "counts", {"runs": "read_parquet(['a.parquet', 'b.parquet'])"}.get) != before  # new data files
    write(tmp_path, "marts", "other", "select 2 as thing_id\n")
    assert mart_inputs(sqlproject.load_views(sql_dir), "counts", files.get) == before  # a view it does not read
    write(tmp_path, "staging", "stg_things", "select *, 1 as n from {{ source('runs') }}\n")
    assert mart_inputs(sqlproject.load_views(sql_dir), "counts", files.get) != before  # the view under it
