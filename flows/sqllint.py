"""The SQL lint: every file of ``sql/`` parsed by sqlglot (DuckDB dialect) and held to the house style.

Run as ``python -m flows.sqllint [SQL_DIR]``: one line per finding, exit 1 when there is any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.optimizer.scope import traverse_scope

from flows import sqlproject
from flows.settings import Settings

DIALECT = sqlglot.Dialect.get_or_raise("duckdb")
KEYWORDS = frozenset(DIALECT.tokenizer_class.KEYWORDS.values())
PARAM = re.compile(r"\$(\w+)")


def _text_findings(path: Path, text: str) -> list[str]:
    where = sqlproject.shown(path)
    found = [f"{where}:{n}: trailing whitespace" for n, line in enumerate(text.splitlines(), 1) if line != line.rstrip()]
    found += [f"{where}:{n}: tab" for n, line in enumerate(text.splitlines(), 1) if "\t" in line]
    if not text.endswith("\n") or text.endswith("\n\n"):
        found.append(f"{where}: must end with exactly one newline")
    for token in DIALECT.tokenize(text):
        written = text[token.start:token.end + 1]
        if token.token_type in KEYWORDS and written != written.lower():
            found.append(f"{where}:{token.line}: keyword {written!r} in upper case")
    return found


def _parse(path: Path, sql: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(sql, dialect=DIALECT)
    except ParseError as e:
        first = str(e).strip().splitlines()[0]
        raise sqlproject.SqlProjectError(f"{sqlproject.shown(path)}: sqlglot cannot parse it: {first}") from e


def relations(tree: exp.Expression) -> set[str]:
    """The tables and views a query reads, without its CTEs and table functions."""
    names = set()
    for scope in traverse_scope(tree):
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and source.name:
                names.add(source.name)
    return names


def _limits_without_order(tree: exp.Expression) -> bool:
    return any(select.args.get("limit") and not select.args.get("order") for select in tree.find_all(exp.Select))


def lint_view(view: sqlproject.View) -> list[str]:
    """A view reads only what it declares, leaves order to its callers, and (past staging) ends with
    ``select * from final``."""
    where = sqlproject.shown(view.path)
    found = _text_findings(view.path, view.text)
    tree = _parse(view.path, view.sql(lambda table: f"source__{table}"))
    declared = set(view.refs) | {f"source__{t}" for t in view.sources}
    for name in sorted(relations(tree) - declared):
        found.append(f"{where}: reads {name!r} by bare name; write {{{{ ref('{name}') }}}}")
    if tree.args.get("order"):
        found.append(f"{where}: a view ends without ORDER BY (callers order what they show)")
    if _limits_without_order(tree):
        found.append(f"{where}: LIMIT without ORDER BY")
    if view.layer != "staging" and not re.search(r"\nselect \* from final\n$", view.text):
        found.append(f"{where}: the last line must be 'select * from final'")
    return found


def lint_query(path: Path, views: dict[str, sqlproject.View], params: tuple[str, ...] | None) -> list[str]:
    """A named query or data test reads only views, orders what it limits, and (a named query) uses exactly
    the parameters its header declares."""
    where = sqlproject.shown(path)
    text = path.read_text()
    found = _text_findings(path, text)
    tree = _parse(path, text)
    for name in sorted(relations(tree) - set(views)):
        found.append(f"{where}: reads {name!r}, which is no view in sql/")
    if _limits_without_order(tree):
        found.append(f"{where}: LIMIT without ORDER BY")
    if params is not None:
        used = set(PARAM.findall(re.sub(r"(?m)^--.*$", "", text)))
        if used != set(params):
            found.append(f"{where}: uses parameters {sorted(used)} but declares {sorted(params)} ('-- params:')")
    return found


def lint(sql_dir: Path) -> list[str]:
    """Every finding in ``sql_dir``, one line each naming the file (empty: clean)."""
    try:
        views = sqlproject.load_views(sql_dir)
        sqlproject.build_order(views)
    except sqlproject.SqlProjectError as e:
        return [str(e)]
    found: list[str] = []
    for view in views.values():
        try:
            found += lint_view(view)
        except sqlproject.SqlProjectError as e:
            found.append(str(e))
    checks = [(p, sqlproject.parse_header(p, p.read_text()).names("params")) for p in sqlproject.query_files(sql_dir).values()]
    checks += [(p, None) for p in sorted((sql_dir / "tests").glob("*.sql"))]
    for path, params in checks:
        try:
            found += lint_query(path, views, params)
        except sqlproject.SqlProjectError as e:
            found.append(str(e))
    return found


def main(argv: list[str] | None = None) -> int:
    """Lint ``argv[0]`` (default: the settings' SQL folder); print the findings; 1 when there are any."""
    argv = sys.argv[1:] if argv is None else argv
    sql_dir = Path(argv[0]) if argv else Settings.load().sql_dir
    found = lint(sql_dir)
    for line in found:
        print(line)
    files = sum(1 for _ in sql_dir.rglob("*.sql"))
    print(f"sql lint: {files} files, {len(found)} findings", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
