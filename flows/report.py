"""A self-contained offline HTML report of a lake: charts as inline SVG, no scripts, no network."""

from __future__ import annotations

import html
import io
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from flows import sqlproject, warehouse
from flows.lake import Lake

TYPE_COLOURS = {"country": "#4e79a7", "subdivision": "#76b7b2", "city": "#edc948", "person": "#f28e2b", "organization": "#59a14f",
                "armed_group": "#e15759", "party": "#b07aa1", "company": "#9c755f"}
CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.sub{color:#666}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{background:#f5f7fa;border-radius:8px;padding:.7rem 1.1rem;min-width:8rem}.card b{display:block;font-size:1.5rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:14px}td,th{padding:.25rem .7rem;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#2e7d32}.bad{color:#c62828;font-weight:600}
figure{margin:0}svg{max-width:100%;height:auto}
"""


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _table(columns: list[str], rows: list[tuple], numeric: set[str] = frozenset()) -> str:
    head = "".join(f'<th class="{"n" if c in numeric else ""}">{html.escape(c)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for c, v in zip(columns, row):
            text = f"{v:,}" if isinstance(v, int) else f"{v:.3f}" if isinstance(v, float) else html.escape("" if v is None else str(v))
            cells.append(f'<td class="{"n" if c in numeric else ""}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def top_actors_chart(rows: list[tuple]) -> str:
    """Horizontal bars: mentions of the top actors, coloured by actor type."""
    import matplotlib.pyplot as plt

    rows = rows[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 0.8))
    ax.barh([r[1] for r in rows], [r[3] for r in rows], color=[TYPE_COLOURS.get(r[2], "#bab0ac") for r in rows])
    ax.set_xlabel("mentions")
    ax.spines[["top", "right"]].set_visible(False)
    for kind, colour in TYPE_COLOURS.items():
        if any(r[2] == kind for r in rows):
            ax.bar(0, 0, color=colour, label=kind)
    ax.legend(frameon=False, loc="lower right")
    return _svg(fig)


def timeline_chart(rows: list[tuple], actors: list[str]) -> str:
    """Lines: mentions per period of each of the given actors."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.6))
    for name in actors:
        points = [(r[1], r[2]) for r in rows if r[0] == name]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    ax.set_ylabel("mentions")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=9, ncol=3)
    fig.autofmt_xdate()
    return _svg(fig)


def heatmap_chart(names: list[str], matrix: list[list[float]]) -> str:
    """Heat-map: how strongly each pair of top actors appears together (npmi)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 7))
    im = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=9)
    ax.set_yticks(range(len(names)), names, fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.7, label="npmi (articles)")
    return _svg(fig)


def status_chart(rows: list[tuple]) -> str:
    """Bars: files of the latest run by status."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6))
    colours = {"ingested": "#59a14f", "unchanged": "#bab0ac", "duplicate": "#76b7b2", "near_duplicate": "#4e79a7",
               "non_english": "#edc948", "rejected": "#e15759"}
    ax.bar([r[0] for r in rows], [r[1] for r in rows], color=[colours.get(r[0], "#999") for r in rows])
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylabel("files")
    return _svg(fig)


def build(con: duckdb.DuckDBPyConnection, lake: Lake, sql_dir: Path, checks: dict[str, int]) -> str:
    """The report's HTML from a read-only connection to the lake's DuckDB file; every number comes from a
    named query of ``sql/queries/``."""
    import matplotlib

    matplotlib.use("Agg")

    def q(name: str, **params) -> list[tuple]:
        sql, bound = sqlproject.bind(sql_dir, name, params)
        return con.execute(sql, bound).fetchall()

    (n_articles, n_words, n_sentences, n_mentions, n_linked, n_actors, n_runs, n_dates, near, non_en, removed), = q("lake_totals")
    cards = [("articles", n_articles), ("words", n_words), ("sentences", n_sentences), ("mentions", n_mentions),
             ("actors mentioned", n_actors), ("runs", n_runs)]
    parts = [f"<h1>newslake report</h1><p class='sub'>{html.escape(str(lake.root))} · generated "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>",
             "<div class='cards'>" + "".join(f"<div class='card'><b>{v:,}</b>{k}</div>" for k, v in cards) + "</div>"]

    top = [r[:6] for r in q("top_actors", top=20)]
    parts.append("<h2>Top actors</h2>")
    if top:
        parts.append(f"<figure>{top_actors_chart(top)}</figure>")
        parts.append(_table(["actor_id", "name", "type", "mentions", "articles", "top role"], top, {"mentions", "articles"}))

    leaders = [r[1] for r in top[:6]]
    period = "month" if n_dates > 60 else "day"
    series = q("actors_timeline", actor_names=leaders, period=period)
    parts.append(f"<h2>Mentions over time (by {period})</h2><p class='sub'>Dated by publication where the input states it, "
                 "else by ingest day.</p>")
    if len({r[1] for r in series}) > 1:
        parts.append(f"<figure>{timeline_chart(series, leaders)}</figure>")
    else:
        parts.append("<p>All mentions fall in one period: the inputs state no publication dates, so every article is "
                     "dated by the day it was ingested.</p>")

    names = [r[0] for r in top[:15]]
    labels = {r[0]: r[1] for r in top}
    pairs = {(a, b): v for a, b, v in q("pair_scores", actor_ids=names)}
    parts.append("<h2>Who appears with whom</h2>")
    if len(names) > 1:
        matrix = [[1.0 if a == b else pairs.get((min(a, b), max(a, b)), -1.0) for b in names] for a in names]
        parts.append(f"<figure>{heatmap_chart([labels[n] for n in names], matrix)}</figure>")
    strongest = q("strongest_pairs", among=50, min_articles=3, top=12)
    parts.append("<p class='sub'>Most strongly associated pairs among the 50 most mentioned actors:</p>")
    parts.append(_table(["actor", "with", "articles together", "npmi", "jaccard"], strongest, {"articles together", "npmi", "jaccard"}))

    parts.append("<h2>The latest run's file account</h2>")
    latest = q("run_summary")
    if latest:
        run_id, _, seconds, files_seen, articles_written = latest[0]
        account = q("run_account", run=run_id)
        parts.append(f"<p>Run <code>{html.escape(run_id)}</code>: {files_seen:,} files seen, {articles_written:,} articles written "
                     f"in {seconds:.1f} s.</p>")
        parts.append(f"<figure>{status_chart([(s, f) for s, f, _, _ in account])}</figure>")
        parts.append(_table(["status", "files", "records"], [r[:3] for r in account], {"files", "records"}))
        reasons = q("rejection_reasons", run=run_id, top=10)
        if reasons:
            parts.append(_table(["rejected because", "files"], reasons, {"files"}))

    parts.append("<h2>Data quality</h2>")
    share = n_linked / n_mentions if n_mentions else 0.0
    parts.append(_table(["measure", "value"], [("mentions linked to an actor", f"{share:.1%}"), ("near-duplicate articles (left out of counts)", near),
                                               ("articles not analysed (not English)", non_en), ("boilerplate characters removed", removed)], {"value"}))
    broken = sorted((name, n) for name, n in checks.items() if n)
    parts.append(f"<p>SQL data tests: <span class='{'bad' if broken else 'ok'}'>{len(checks) - len(broken):,} of {len(checks):,} pass</span> "
                 "(<code>newslake check</code>).</p>")
    if broken:
        parts.append("<table><thead><tr><th>SQL data test</th><th>result</th></tr></thead><tbody>"
                     + "".join(f"<tr><td>{html.escape(r)}</td><td><span class='bad'>{n:,} rows break it</span></td></tr>" for r, n in broken)
                     + "</tbody></table>")
    unlinked = q("top_unlinked", top=15)
    parts.append("<h3>Most frequent forms with no curated actor</h3>")
    parts.append(_table(["surface", "label", "status", "mentions"], unlinked, {"mentions"}))
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>newslake report</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>")


def write_report(lake: Lake, sql_dir: Path, out: Path, as_of: str | None = None) -> Path:
    """Build the report from the lake's DuckDB file (or the lake as run ``as_of`` left it) and write it to
    ``out`` (atomically)."""
    checks = warehouse.data_tests(lake, sql_dir, as_of)
    with warehouse.connect(lake, as_of, sql_dir) as con:
        page = build(con, lake, sql_dir, checks)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
