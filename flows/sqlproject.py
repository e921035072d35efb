"""The SQL in ``sql/``: view files with their declared dependencies and grain, the build order, named
queries and the data tests generated from the grain declarations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from transforms.schemas import TABLES

LAYERS = ("staging", "intermediate", "marts")
REF = re.compile(r"\{\{\s*ref\('(\w+)'\)\s*\}\}")
SOURCE = re.compile(r"\{\{\s*source\('(\w+)'\)\s*\}\}")
HEADER_FIELD = re.compile(r"--\s?(\w+):\s*(.*)")
DECLARATIONS = ("grain", "key", "nullable", "references", "export", "params")
REFERENCE = re.compile(r"(\w+)\s*->\s*(\w+)\.(\w+)")


class SqlProjectError(ValueError):
    """A view, query or test file that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class Header:
    """The leading comment of a SQL file: its name, what it holds, and its declarations and column notes."""

    name: str
    description: str
    fields: dict[str, str] = field(default_factory=dict)

    def names(self, key: str) -> tuple[str, ...]:
        """A comma-separated declaration as a tuple of names (empty when not declared)."""
        return tuple(n.strip() for n in self.fields.get(key, "").split(",") if n.strip())

    @property
    def notes(self) -> dict[str, str]:
        """Column notes: every field that is not a declaration."""
        return {k: v for k, v in self.fields.items() if k not in DECLARATIONS}


@dataclass(frozen=True)
class View:
    """One view file: ``sql/<layer>/<name>.sql``."""

    name: str
    layer: str
    path: Path
    text: str
    header: Header
    refs: tuple[str, ...]
    sources: tuple[str, ...]

    @property
    def grain(self) -> str:
        return self.header.fields["grain"]

    @property
    def key(self) -> tuple[str, ...]:
        return self.header.names("key")

    @property
    def nullable(self) -> tuple[str, ...]:
        return self.header.names("nullable")

    @property
    def references(self) -> tuple[tuple[str, str, str], ...]:
        """(column, view, column) pairs: every non-null value of the first column is a value of the second."""
        return tuple(REFERENCE.fullmatch(r.strip()).groups() for r in self.header.fields.get("references", "").split(",") if r.strip())

    @property
    def exported(self) -> bool:
        """Whether refresh writes the view to ``DIR/marts/<name>.parquet``: marts, unless declared ``-- export: no``."""
        return self.layer == "marts" and self.header.fields.get("export") != "no"

    def sql(self, source_relation=lambda table: table) -> str:
        """The SELECT with ``ref()`` resolved to view names and ``source()`` by ``source_relation``."""
        return SOURCE.sub(lambda m: source_relation(m.group(1)), REF.sub(lambda m: m.group(1), self.text))


def shown(path: Path) -> str:
    """A SQL file's path as error messages name it: from the folder above ``sql/``."""
    parts = path.parts
    return str(Path(*parts[len(parts) - 3:])) if len(parts) >= 3 else str(path)


def parse_header(path: Path, text: str) -> Header:
    """The header of a SQL file: ``-- <name>: <what it holds>``, then ``-- <field>: <text>`` lines; other
    comment lines continue the field above."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line)
    first = HEADER_FIELD.fullmatch(lines[0]) if lines else None
    if first is None or first.group(1) != path.stem:
        raise SqlProjectError(f"{shown(path)}: the first line must be '-- {path.stem}: <what it holds>'")
    description, fields, current = first.group(2), {}, None
    for line in lines[1:]:
        match = HEADER_FIELD.fullmatch(line)
        if match:
            current = match.group(1)
            if current in fields:
                raise SqlProjectError(f"{shown(path)}: '{current}:' is declared twice")
            fields[current] = match.group(2).strip()
        elif current is None:
            description = f"{description} {line[2:].strip()}"
        else:
            fields[current] = f"{fields[current]} {line[2:].strip()}".strip()
    return Header(path.stem, description.strip(), fields)


def read_view(path: Path, layer: str) -> View:
    """One view file, its header checked: a grain, a key, well-formed references; sources only in staging."""
    text = path.read_text()
    header = parse_header(path, text)
    for required in ("grain", "key"):
        if not header.fields.get(required):
            raise SqlProjectError(f"{shown(path)}: no '-- {required}:' line in the header")
    for ref in header.fields.get("references", "").split(","):
        if ref.strip() and not REFERENCE.fullmatch(ref.strip()):
            raise SqlProjectError(f"{shown(path)}: reference {ref.strip()!r} is not 'column -> view.column'")
    if header.fields.get("export", "yes") not in ("yes", "no"):
        raise SqlProjectError(f"{shown(path)}: '-- export:' is yes or no, not {header.fields['export']!r}")
    unknown_nullable = set(header.names("nullable")) - set(header.names("key"))
    if unknown_nullable:
        raise SqlProjectError(f"{shown(path)}: nullable {sorted(unknown_nullable)} not in the key")
    refs = tuple(dict.fromkeys(REF.findall(text)))
    sources = tuple(dict.fromkeys(SOURCE.findall(text)))
    if layer == "staging" and refs:
        raise SqlProjectError(f"{shown(path)}: a staging view reads sources only, not ref({refs[0]!r})")
    if layer != "staging" and sources:
        raise SqlProjectError(f"{shown(path)}: only staging views read source({sources[0]!r})")
    for source in sources:
        if source not in TABLES:
            raise SqlProjectError(f"{shown(path)}: source({source!r}) names no lake table")
    return View(path.stem, layer, path, text, header, refs, sources)


def load_views(sql_dir: Path) -> dict[str, View]:
    """Every view of ``sql/<layer>/*.sql`` by name, each checked against the others: refs name known views of
    the same or a lower layer; references name known views."""
    views: dict[str, View] = {}
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            if path.stem in views:
                raise SqlProjectError(f"{shown(path)}: view {path.stem!r} is also defined in {shown(views[path.stem].path)}")
            views[path.stem] = read_view(path, layer)
    for view in views.values():
        for ref in view.refs:
            if ref not in views:
                raise SqlProjectError(f"{shown(view.path)}: ref({ref!r}) names no view in sql/")
            if LAYERS.index(views[ref].layer) > LAYERS.index(view.layer):
                raise SqlProjectError(f"{shown(view.path)}: a {view.layer} view cannot read the {views[ref].layer} view {ref!r}")
        for _, target, _ in view.references:
            if target not in views:
                raise SqlProjectError(f"{shown(view.path)}: reference to {target!r}, which is no view in sql/")
    return views


def build_order(views: dict[str, View]) -> list[View]:
    """The views in an order that creates each after everything it reads: of the views ready, the one of the
    lowest layer, then first by name.

    Raises:
        SqlProjectError: a dependency cycle, naming a file on it.
    """
    rank = {name: (LAYERS.index(v.layer), name) for name, v in views.items()}
    waiting = {name: set(v.refs) for name, v in views.items()}
    order: list[View] = []
    while waiting:
        ready = [n for n, deps in waiting.items() if not deps]
        if not ready:
            raise SqlProjectError(_cycle(views, waiting))
        name = min(ready, key=rank.get)
        order.append(views[name])
        del waiting[name]
        for deps in waiting.values():
            deps.discard(name)
    return order


def upstream(views: dict[str, View], name: str) -> set[str]:
    """Every view that view ``name`` reads, directly or through other views (not ``name`` itself)."""
    seen: set[str] = set()
    stack = list(views[name].refs)
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack += views[current].refs
    return seen


def _cycle(views: dict[str, View], waiting: dict[str, set[str]]) -> str:
    start = min(waiting, key=lambda n: (LAYERS.index(views[n].layer), n))
    path = [start]
    while True:
        nxt = min(waiting[path[-1]])
        if nxt in path:
            loop = path[path.index(nxt):] + [nxt]
            first = views[loop[0]]
            return f"{shown(first.path)}: dependency cycle {' -> '.join(loop)}"
        path.append(nxt)


def query_files(sql_dir: Path) -> dict[str, Path]:
    """The named queries the CLI and the report run: ``sql/queries/<name>.sql``."""
    return {p.stem: p for p in sorted((sql_dir / "queries").glob("*.sql"))}


def query(sql_dir: Path, name: str) -> str:
    """The SQL of the named query ``sql/queries/<name>.sql``."""
    path = sql_dir / "queries" / f"{name}.sql"
    if not path.exists():
        raise SqlProjectError(f"{shown(path)}: no such named query")
    return path.read_text()


def generated_tests(views: dict[str, View]) -> dict[str, str]:
    """Data tests from the grain declarations, as SQL returning offending rows: the key is unique, its
    columns are not null (except those declared nullable), and every declared reference resolves."""
    tests: dict[str, str] = {}
    for view in build_order(views):
        key = ", ".join(view.key)
        tests[f"unique_{view.name}"] = f"select {key}, count(*) as n from {view.name} group by {key} having count(*) > 1"
        required = [c for c in view.key if c not in view.nullable]
        if required:
            tests[f"not_null_{view.name}"] = (f"select {key} from {view.name} where "
                                              + " or ".join(f"{c} is null" for c in required))
        for column, target, target_column in view.references:
            tests[f"relationships_{view.name}_{column}"] = (
                f"select child.{column} from {view.name} as child where child.{column} is not null and not exists "
                f"(select 1 from {target} as parent where parent.{target_column} = child.{column})")
    return tests


def assertion_tests(sql_dir: Path) -> dict[str, str]:
    """The hand-written data tests ``sql/tests/assert_*.sql``: rule name -> SQL returning offending rows."""
    return {p.stem: p.read_text() for p in sorted((sql_dir / "tests").glob("assert_*.sql"))}


def bind(sql_dir: Path, name: str, params: dict | None = None) -> tuple[str, dict]:
    """The SQL of a named query and its parameters: every one it declares, None where not given.

    Raises:
        SqlProjectError: no such query, or a parameter it does not declare.
    """
    path = sql_dir / "queries" / f"{name}.sql"
    text = query(sql_dir, name)
    declared = parse_header(path, text).names("params")
    unknown = sorted(set(params or {}) - set(declared))
    if unknown:
        raise SqlProjectError(f"{shown(path)}: no parameter {unknown[0]!r} (it takes {', '.join(declared) or 'none'})")
    return text, {p: (params or {}).get(p) for p in declared}
