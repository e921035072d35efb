"""The README's views section, generated from the view files' headers and the columns DuckDB gives the views.

Run as ``python -m flows.docs`` to rewrite the section in README.md, or ``python -m flows.docs --check``
to exit 1 when it is out of date.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import duckdb

from flows import sqlproject, warehouse
from flows.lake import Lake
from flows.settings import PROJECT_ROOT, Settings

BEGIN = "<!-- views: generated from the headers in sql/ by `make docs`; edit those, not this -->"
END = "<!-- end of generated views -->"


def view_columns(sql_dir: Path) -> dict[str, list[str]]:
    """Every view's columns, from the views built in memory over an empty lake."""
    with tempfile.TemporaryDirectory() as root, duckdb.connect() as con:
        names = warehouse.create_views(con, Lake(Path(root)), sql_dir, {})
        return {name: [row[0] for row in con.execute(f"describe {name}").fetchall()] for name in names}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _columns_cell(view: sqlproject.View, columns: list[str]) -> str:
    notes = view.header.notes
    return ", ".join(f"`{c}`" + (f" ({_cell(notes[c])})" if c in notes else "") for c in columns)


def _key_cell(view: sqlproject.View) -> str:
    return ", ".join(f"`{k}`" + (" (may be null)" if k in view.nullable else "") for k in view.key)


def section(sql_dir: Path) -> str:
    """The generated markdown: the marts with grain, key and columns; then every view with what it reads.

    Raises:
        sqlproject.SqlProjectError: a column note names no column of its view.
    """
    views = sqlproject.load_views(sql_dir)
    columns = view_columns(sql_dir)
    for view in views.values():
        unknown = sorted(set(view.header.notes) - set(columns[view.name]))
        if unknown:
            raise sqlproject.SqlProjectError(f"{sqlproject.shown(view.path)}: '-- {unknown[0]}:' names no column of the view")
    lines = [BEGIN, "", "| view | grain | key | in `DIR/marts/` | columns |", "|---|---|---|---|---|"]
    for view in sorted((v for v in views.values() if v.layer == "marts"), key=lambda v: v.name):
        lines.append(f"| `{view.name}` | {_cell(view.header.description)}; {_cell(view.grain)} | {_key_cell(view)} | "
                     f"{'yes' if view.exported else 'no'} | {_columns_cell(view, columns[view.name])} |")
    lines += ["", "Every view in build order, what it reads, and the references its data tests check:", "",
              "| view | layer | reads | references |", "|---|---|---|---|"]
    for view in sqlproject.build_order(views):
        reads = ", ".join(f"`{r}`" for r in view.refs) or ", ".join(f"lake table `{s}`" for s in view.sources)
        refs = ", ".join(f"`{c}` → `{t}.{tc}`" for c, t, tc in view.references)
        lines.append(f"| `{view.name}` | {view.layer} | {reads} | {refs} |")
    return "\n".join(lines + ["", END])


def updated(readme: str, generated: str) -> str:
    """``readme`` with the text between the markers replaced by ``generated``."""
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + generated + readme[end:]


def main(argv: list[str] | None = None) -> int:
    """Rewrite README.md's views section; with ``--check``, only say whether it is current (exit 1 if not)."""
    argv = sys.argv[1:] if argv is None else argv
    readme = PROJECT_ROOT / "README.md"
    text = readme.read_text()
    new = updated(text, section(Settings.load().sql_dir))
    if "--check" in argv:
        if new != text:
            print("README.md's views section is out of date with sql/: run `make docs`", file=sys.stderr)
            return 1
        return 0
    readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
