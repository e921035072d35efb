"""The actor dimension: canonical actors and every surface form that names them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pycountry

from transforms.schemas import ACTORS, to_table

# alias kinds and the entity label each implies
KIND_LABEL = {"name": None, "alias": None, "demonym": "NORP", "metonym": "GPE"}
TYPE_LABEL = {
    "country": "GPE",
    "organization": "ORG",
    "group": "ORG",
    "armed_group": "ORG",
    "party": "ORG",
    "company": "ORG",
    "person": "PERSON",
    "location": "LOC",
    "subdivision": "GPE",
    "city": "GPE",
    "team": "ORG",
}
PLACE_TYPES = ("subdivision", "city")  # places below the country: their parent is their country


@dataclass(frozen=True)
class Actor:
    """One canonical actor (a row of the ``actors`` table)."""

    actor_id: str
    name: str
    type: str
    country_code: str | None = None
    parent: str | None = None  # a subdivision's or city's country (alpha-3); a team's place
    affiliation: str | None = None
    source: str = "seed"
    wikidata_qid: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None

    def row(self) -> dict:
        return {
            "actor_id": self.actor_id,
            "name": self.name,
            "type": self.type,
            "country_code": self.country_code,
            "parent": self.parent,
            "affiliation": self.affiliation,
            "source": self.source,
            "wikidata_qid": self.wikidata_qid,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
        }


@dataclass(frozen=True)
class Alias:
    """A surface form that names an actor, with how it names it."""

    text: str
    actor_id: str
    kind: str  # name | alias | demonym | metonym
    label: str  # the entity label a mention of this form gets
    ambiguous: bool = False  # links only when the model agrees it is not a person
    role: str | None = None  # the role the form itself implies ("Pentagon": military)


@dataclass
class ActorDictionary:
    """Actors by id and aliases by exact surface form."""

    actors: dict[str, Actor] = field(default_factory=dict)
    aliases: dict[str, Alias] = field(default_factory=dict)

    def add_alias(
        self, text: str, actor_id: str, kind: str, ambiguous: bool = False, role: str | None = None
    ) -> None:
        text = text.strip()
        existing = self.aliases.get(text)
        if not text or existing is not None and existing.kind == "name":
            if existing is not None and ambiguous and existing.actor_id == actor_id:
                self.aliases[text] = replace(existing, ambiguous=True)  # "?Georgia": the name itself is ambiguous
            return
        actor = self.actors[actor_id]
        label = KIND_LABEL[kind] or TYPE_LABEL.get(actor.type, "ORG")
        self.aliases[text] = Alias(text, actor_id, kind, label, ambiguous, role)

    def lookup(self, surface: str) -> Alias | None:
        """The alias for a surface form: exact, then without "the"/possessive, then by title case."""
        for form in _variants(surface):
            alias = self.aliases.get(form)
            if alias is not None:
                return alias
        return None

    def match_forms(self) -> dict[str, Alias]:
        """Every string to match in text: each alias and its all-capitals headline form."""
        forms = dict(self.aliases)
        for text, alias in self.aliases.items():
            upper = text.upper()
            if upper != text and upper not in self.aliases and len(text) >= 4:
                forms.setdefault(upper, alias)
        return forms

    def capitals(self) -> frozenset[str]:
        """The words of three or more letters the dictionary writes in capitals ("NATO", "ISIL",
        "USA"): acronyms that re-casing an all-capitals line must keep."""
        return frozenset(w for text in self.aliases for w in text.split() if w.isupper() and len(w) >= 3)

    def table_rows(self) -> list[dict]:
        return [a.row() for a in sorted(self.actors.values(), key=lambda a: a.actor_id)]


_POSSESSIVE = re.compile(r"(['’]s|['’])$")


def _variants(surface: str) -> list[str]:
    s = " ".join(surface.split())
    forms = [s]
    bare = _POSSESSIVE.sub("", s)
    if bare.lower().startswith("the "):
        bare = bare[4:]
    forms.append(bare)
    if bare.isupper() and len(bare) >= 4:
        forms.append(bare.title())
    return forms


def _date(value: str | None, actor_id: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"seeds/actors.csv: {actor_id}: {value!r} is not a YYYY-MM-DD date") from None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


def _country_names(country) -> list[str]:
    names = []
    for attr in ("common_name", "name", "official_name"):
        value = getattr(country, attr, None)
        if value and "," in value:
            head, _, tail = value.partition(", ")
            value = f"{tail} {head}"
        if value:
            names.append(re.sub(r"^(the|The) ", "", value))
    return list(dict.fromkeys(names))


def build_dictionary(curated: list[dict]) -> ActorDictionary:
    """Every ISO 3166-1 country (pycountry) plus the curated rows of ``seeds/actors.csv``.

    Curated rows whose actor_id is a country's alpha-3 code add names, demonyms and metonyms
    to that country; other rows add organisations, groups and people. A ``?`` before an
    alias marks it ambiguous (linked only when the model does not call it a person); a
    ``:role`` after it names the role it implies (``Pentagon:military``).
    """
    d = ActorDictionary()
    for c in pycountry.countries:
        names = _country_names(c)
        d.actors[c.alpha_3] = Actor(c.alpha_3, names[0], "country", c.alpha_3, source="pycountry")
        for name in names:
            d.add_alias(name, c.alpha_3, "name")
    for row in curated:
        actor_id = row["actor_id"].strip()
        base = d.actors.get(actor_id)
        kind = (row.get("type") or (base.type if base else "organization")).strip()
        country_code = (row.get("country_code") or "").strip() or (base.country_code if base else None)
        d.actors[actor_id] = Actor(
            actor_id=actor_id,
            name=(row.get("name") or (base.name if base else actor_id)).strip(),
            type=kind,
            country_code=country_code,
            parent=country_code if kind in PLACE_TYPES else None,
            wikidata_qid=(row.get("wikidata_qid") or "").strip() or None,
            source="seed" if base is None else "pycountry+seed",
            valid_from=_date(row.get("valid_from"), actor_id),
            valid_to=_date(row.get("valid_to"), actor_id),
        )
        d.add_alias(d.actors[actor_id].name, actor_id, "name")
        for column, kind in (("aliases", "alias"), ("demonyms", "demonym"), ("metonyms", "metonym")):
            for alias in _split(row.get(column)):
                text, _, role = alias.partition(":")
                d.add_alias(text.lstrip("?"), actor_id, kind, text.startswith("?"), role or None)
    return d


def person_actor_id(name: str) -> str:
    """Stable id of a person from the normalised full name: ``person:lloyd-austin``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return f"person:{slug}"



def keep_first(found: dict[str, Actor], actors: Iterable[Actor]) -> None:
    """Add ``actors`` (in text order) to ``found``: the first stated version of each id wins, and a
    person keeps the first affiliation any article stated (the rule ``actor_rows`` applies across
    batches, so the outcome does not depend on where batches begin)."""
    for actor in actors:
        old = found.get(actor.actor_id)
        if old is None or (actor.affiliation and not old.affiliation):
            found[actor.actor_id] = actor


def actor_rows(stored: list[dict], found: list[Actor], curated: list[dict]) -> list[dict]:
    """The ``actors`` table after a run: curated rows as they are now, plus every actor the model or the
    place gazetteer introduced in this or earlier runs (a person keeps the first affiliation any article stated)."""
    rows = {r["actor_id"]: r for r in stored if r["source"] in ("model", "gazetteer")}
    for actor in found:
        old = rows.get(actor.actor_id)
        if old is None or (actor.affiliation and not old["affiliation"]):
            rows[actor.actor_id] = actor.row()
    rows.update({r["actor_id"]: r for r in curated})
    return sorted(rows.values(), key=lambda r: r["actor_id"])


def actors_after(stored: pa.Table, found: list[Actor], curated: list[dict]) -> pa.Table:
    """``actor_rows`` as a table sorted by ``actor_id``; when the run found no actors (a no-op rerun), made in
    Arrow: the stored actors the model or the gazetteer introduced, but for the curated ids, and the curated ones
    (no Python row per stored actor: 12,000 for BBC)."""
    if found:
        return to_table(actor_rows(stored.to_pylist(), found, curated), ACTORS)
    curated_table = to_table(curated, ACTORS)
    introduced = pc.is_in(stored.column("source"), pa.array(["model", "gazetteer"]))
    kept = stored.filter(pc.and_(introduced, pc.invert(pc.is_in(stored.column("actor_id"), curated_table.column("actor_id")))))
    return pa.concat_tables([kept, curated_table]).sort_by("actor_id")


def same_actors(actors: pa.Table, stored: pa.Table) -> bool:
    """Whether the ``actors`` table a run built (sorted by ``actor_id``, its key, as ``actor_rows`` sorts) holds
    the stored rows: compared as Arrow columns (as rows of Python values, 0.1 s for BBC's 12,000 actors)."""
    return actors.num_rows == stored.num_rows and actors.equals(stored.sort_by("actor_id"))
