"""Marketplace search: the public search API against a bare Litestar + asyncpg handler, 10k and 100k offers.

One territory, several provider organisations, offers generated from French templates over about
300 communes of five départements (INSEE codes), about 80 % published, covering communes or whole
départements. For each size (10,000 then 100,000 offers, the second seeded on top of the first):

1. ``bare``: a minimal Litestar app with one handler that runs the very statement the search runs
   (``core.marketplace.search.build_search``, imported, not copied) through raw asyncpg, in one
   transaction with ``SET LOCAL`` of the tenant (row-level security applies: it connects as the
   application role), and returns the rows as JSON;
2. ``Parcours``: ``GET /t/{slug}/api/v1/services`` through the real app (public route guard,
   tenant lookup, query parsing and checks, tenant scope, msgspec response).

Both are driven in-process through ``httpx.ASGITransport`` (no sockets) with the same number of
concurrent clients and the same pool size, on a fixed set of realistic queries (free text without
accents, a typo, a commune, a type, a maximal price, none), alternating bare and Parcours rounds so
that both see the same machine. Every query is first checked to give the same total both ways.

At the largest size it prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the main query shapes (as the
application role, row-level security included), the indexes each plan uses, and whether the
prepared statements ended up on custom or generic plans.

Seeding uses COPY into a temporary table, then one ``INSERT … SELECT`` in the tenant's scope
(COPY cannot write into a table with row-level security).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import logging
import math
import os
import random
import re
import secrets
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from litestar import Litestar, get
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.config import Settings
from core.db.bootstrap import DatabaseServer, DatabaseUrls, database_name, with_database
from core.db.engine import DB, configure_engine
from core.db.migrate import migrate
from core.errors import InvalidInput
from core.identity.directory import create_organisation
from core.marketplace.search import build_search
from core.marketplace.taxonomy import label_of, taxonomy
from core.runtime import Runtime, build_runtime
from core.tenancy.service import TenantRecord, create_tenant

console = Console()
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise

# ---------------------------------------------------------------- the territory's data

DEPARTEMENTS = {"40": 110, "64": 80, "33": 50, "32": 35, "47": 25}
"""Communes drawn per département (300 in all): Landes, Pyrénées-Atlantiques, Gironde, Gers,
Lot-et-Garonne."""
ANCHORS = ("40192", "40088", "40046", "64445", "64102", "64024", "33063", "33281", "32013", "47001")
"""Real INSEE codes of the larger communes (Mont-de-Marsan, Dax, Biscarrosse, Pau, Bayonne,
Anglet, Bordeaux, Mérignac, Auch, Agen), always present and most covered."""
SECTORS = (
    "Marsan",
    "Chalosse",
    "Pays d'Orthe",
    "Born",
    "Tursan",
    "Grande Lande",
    "Côte d'Argent",
    "Béarn",
    "Pays basque",
    "Soule",
    "Médoc",
    "Entre-deux-Mers",
    "Bassin d'Arcachon",
    "Armagnac",
    "Astarac",
    "Albret",
    "Pays de Serres",
)
TITLES: dict[str, tuple[str, ...]] = {
    "home_help": (
        "Aide à domicile",
        "Auxiliaire de vie",
        "Aide à domicile après une hospitalisation",
        "Accompagnement à domicile des personnes âgées",
    ),
    "housekeeping": (
        "Aide ménagère",
        "Ménage et repassage",
        "Entretien du logement",
        "Aide ménagère à domicile",
    ),
    "shopping": ("Courses à domicile", "Livraison de courses", "Accompagnement aux courses"),
    "personal_care": ("Aide à la toilette", "Soins d'hygiène à domicile", "Aide au lever et au coucher"),
    "home_nursing": ("Soins infirmiers à domicile", "Cabinet infirmier", "SSIAD", "Infirmière à domicile"),
    "meals_on_wheels": (
        "Portage de repas",
        "Repas livrés à domicile",
        "Portage de repas à domicile",
        "Livraison de repas adaptés",
    ),
    "remote_alarm": ("Téléassistance", "Téléassistance 24 h/24", "Bracelet d'appel d'urgence"),
    "night_care": ("Garde de nuit", "Présence de nuit", "Garde de nuit itinérante"),
    "respite": ("Répit des aidants", "Accueil de jour", "Relayage à domicile", "Hébergement temporaire"),
    "escorted_transport": (
        "Transport accompagné",
        "Accompagnement aux rendez-vous médicaux",
        "Transport solidaire",
    ),
    "pharmacy_delivery": ("Livraison de médicaments", "Pharmacie à domicile", "Livraison d'ordonnance"),
    "home_adaptation": (
        "Adaptation du logement",
        "Aménagement de salle de bain",
        "Pose de barres d'appui",
        "Monte-escalier",
    ),
    "medical_equipment": (
        "Location de lit médicalisé",
        "Matériel médical à domicile",
        "Fauteuil roulant et déambulateur",
    ),
    "home_physiotherapy": ("Kinésithérapie à domicile", "Rééducation à domicile", "Kiné à domicile"),
    "social_support": ("Accompagnement social", "Aide aux démarches administratives", "Permanence sociale"),
}
DETAILS: dict[str, tuple[str, ...]] = {
    "home_help": (
        "Lever, coucher, aide aux repas et présence rassurante.",
        "Aide aux gestes du quotidien pour rester chez soi.",
        "Retour à domicile organisé dès la sortie de l'hôpital.",
    ),
    "housekeeping": (
        "Entretien du logement et du linge, une à plusieurs fois par semaine.",
        "Ménage, repassage et rangement par une aide ménagère formée.",
        "Grand ménage de printemps sur demande.",
    ),
    "shopping": (
        "Courses faites pour vous ou avec vous, au marché ou en grande surface.",
        "Livraison des courses le jour même dans le secteur.",
    ),
    "personal_care": (
        "Aide à la toilette et à l'habillage, dans le respect de l'intimité.",
        "Soins d'hygiène par des aides-soignants diplômés.",
    ),
    "home_nursing": (
        "Pansements, injections, préparation des piluliers.",
        "Soins infirmiers prescrits par le médecin, à domicile.",
        "Surveillance après une sortie d'hôpital, prise de sang à domicile.",
    ),
    "meals_on_wheels": (
        "Repas du midi et du soir livrés à domicile.",
        "Régimes sans sel, diabétique ou mixé possibles.",
        "Menus de saison cuisinés sur place, livrés en liaison froide.",
    ),
    "remote_alarm": (
        "Médaillon ou bracelet relié à une centrale d'écoute jour et nuit.",
        "Détecteur de chute et appel des proches en cas d'alerte.",
    ),
    "night_care": (
        "Présence de nuit au domicile ou passages réguliers.",
        "Garde de nuit pour soulager l'aidant.",
    ),
    "respite": (
        "Accueil de jour et hébergement temporaire pour souffler.",
        "Relayage à domicile par un professionnel formé.",
    ),
    "escorted_transport": (
        "Accompagnement aux rendez-vous médicaux et aux examens.",
        "Véhicule adapté aux fauteuils roulants.",
    ),
    "pharmacy_delivery": (
        "Préparation de l'ordonnance et livraison à domicile.",
        "Livraison des médicaments le jour même.",
    ),
    "home_adaptation": (
        "Diagnostic du logement par un ergothérapeute.",
        "Douche de plain-pied, barres d'appui, monte-escalier.",
    ),
    "medical_equipment": (
        "Lit médicalisé, fauteuil, déambulateur livrés et installés.",
        "Location ou vente de matériel médical, maintenance comprise.",
    ),
    "home_physiotherapy": (
        "Séances de rééducation prescrites, au domicile.",
        "Prévention des chutes et travail de l'équilibre.",
    ),
    "social_support": (
        "Aide aux démarches et à l'accès aux droits.",
        "Constitution du dossier d'APA avec un travailleur social.",
    ),
}
COMMON = (
    "Intervention 7 jours sur 7.",
    "Personnel formé à l'accompagnement de la maladie d'Alzheimer.",
    "Devis gratuit.",
    "Structure agréée par le département.",
    "Intervenants formés aux gestes de premiers secours.",
    "Prise en charge possible par l'APA.",
    "Premier rendez-vous d'évaluation à domicile.",
    "Équipe bilingue français-occitan.",
    "Crédit d'impôt de 50 % selon la réglementation en vigueur.",
    "Nous intervenons aussi le week-end et les jours fériés.",
)
PRICES: dict[str, tuple[int, int, str | None, float]] = {
    # type: (min cents, max cents, unit, share with a price)
    "home_help": (2200, 2900, "hour", 0.95),
    "housekeeping": (2000, 2800, "hour", 0.95),
    "shopping": (1200, 2500, "visit", 0.9),
    "personal_care": (2400, 3100, "hour", 0.9),
    "home_nursing": (800, 2000, "visit", 0.2),
    "meals_on_wheels": (750, 1450, "meal", 0.95),
    "remote_alarm": (1500, 3500, "month", 0.95),
    "night_care": (2500, 3600, "hour", 0.9),
    "respite": (4000, 9000, "flat", 0.7),
    "escorted_transport": (1500, 4000, "visit", 0.85),
    "pharmacy_delivery": (0, 800, "visit", 0.8),
    "home_adaptation": (15000, 500000, "flat", 0.4),
    "medical_equipment": (3000, 9000, "month", 0.8),
    "home_physiotherapy": (1600, 2500, "visit", 0.3),
    "social_support": (0, 0, "flat", 0.3),
}
PROGRAMMES = ("apa", "carsat-oscar", "carsat-ardh", "pch", "mutuelle", "caisse-retraite", "msa")
HOURS = (
    "Du lundi au vendredi, 8 h – 18 h",
    "Du lundi au samedi, 8 h – 19 h",
    "7 jours sur 7, 7 h – 21 h",
    "24 h/24, 7 j/7",
    None,
)
OFFER_COLUMNS = (
    "id",
    "tenant_id",
    "provider_organisation_id",
    "service_type",
    "type_label",
    "title",
    "description",
    "price_cents",
    "currency",
    "price_unit",
    "capacity_per_week",
    "lead_time_days",
    "opening_hours",
    "accepted_programmes",
    "languages",
    "accessibility",
    "status",
    "created_at",
    "updated_at",
)
COVERAGE_COLUMNS = ("id", "tenant_id", "offer_id", "commune_insee", "departement")


def communes(rng: random.Random) -> dict[str, list[str]]:
    """About 300 INSEE codes by département, the anchors included."""
    by_departement: dict[str, list[str]] = {}
    for departement, count in DEPARTEMENTS.items():
        anchors = [code for code in ANCHORS if code.startswith(departement)]
        numbers = rng.sample(range(1, 340), count)
        drawn = [f"{departement}{n:03d}" for n in numbers if f"{departement}{n:03d}" not in anchors]
        by_departement[departement] = anchors + drawn[: count - len(anchors)]
    return by_departement


@dataclass
class Generator:
    """Offers and their coverage, reproducible from the seed."""

    tenant_id: uuid.UUID
    providers: list[uuid.UUID]
    seed: int = 2026
    rng: random.Random = field(init=False)
    places: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - reproducible test data, not a secret
        self.places = communes(self.rng)
        self.types = list(taxonomy())
        self.departements = list(self.places)
        self.dep_weights = [DEPARTEMENTS[d] for d in self.departements]

    def commune_of(self, departement: str) -> str:
        """Communes of a département, the anchors (larger towns) far more often."""
        codes = self.places[departement]
        anchors = sum(1 for code in codes if code in ANCHORS)
        if anchors and self.rng.random() < 0.35:
            return codes[self.rng.randrange(anchors)]
        return self.rng.choice(codes)

    def offer(self, now: dt.datetime) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        rng = self.rng
        kind = rng.choice(self.types)
        offer_id = uuid.uuid4()
        title = rng.choice(TITLES[kind])
        if rng.random() < 0.45:
            title += f" — {rng.choice(SECTORS)}"
        description = " ".join([rng.choice(DETAILS[kind]), *rng.sample(COMMON, rng.choice((0, 1, 1, 2, 3)))])
        low, high, unit, priced = PRICES[kind]
        price = rng.randrange(low, high + 1, 10) if rng.random() < priced else None
        status = rng.choices(("published", "draft", "paused"), weights=(80, 12, 8))[0]
        programmes = rng.sample(PROGRAMMES, rng.choice((0, 1, 1, 2, 2, 3)))
        languages = ["fr", *rng.sample(["oc", "es", "eu", "pt", "en", "ar"], rng.choice((0, 0, 0, 1, 2)))]
        row = (
            offer_id,
            self.tenant_id,
            rng.choice(self.providers),
            kind,
            label_of(kind),
            title,
            description,
            price,
            "EUR",
            unit if price is not None else None,
            rng.choice((None, 10, 20, 40, 80, 200)),
            rng.choice((0, 0, 1, 2, 3, 7, 14)),
            rng.choice(HOURS),
            programmes,
            languages,
            rng.choice(("Intervention à domicile", "Locaux accessibles en fauteuil roulant", None)),
            status,
            now,
            now,
        )
        home = rng.choices(self.departements, weights=self.dep_weights)[0]
        places: list[tuple[str | None, str | None]] = []
        shape = rng.random()
        if shape < 0.55:  # a few communes around one town
            chosen = {self.commune_of(home) for _ in range(rng.randint(1, 6))}
            places = [(code, None) for code in sorted(chosen)]
        elif shape < 0.85:  # the whole département
            places = [(None, home)]
        elif shape < 0.95:  # two départements
            other = rng.choice([d for d in self.departements if d != home])
            places = [(None, home), (None, other)]
        else:  # communes and a neighbouring département
            other = rng.choice([d for d in self.departements if d != home])
            places = [(self.commune_of(home), None), (None, other)]
        coverage = [(uuid.uuid4(), self.tenant_id, offer_id, commune, dep) for commune, dep in places]
        return row, coverage


async def seed(
    owner: asyncpg.Connection, generator: Generator, count: int, progress: Progress, label: str
) -> None:
    """``count`` more offers: COPY into temporary tables, then INSERT … SELECT in the tenant's scope."""
    now = dt.datetime.now(dt.UTC)
    task = progress.add_task(label, total=count)
    batch = 10_000
    done = 0
    while done < count:
        size = min(batch, count - done)
        offers, coverage = [], []
        for _ in range(size):
            row, places = generator.offer(now)
            offers.append(row)
            coverage.extend(places)
        async with owner.transaction():
            await owner.execute(f"SET LOCAL app.tenant_id = '{generator.tenant_id}'")
            for stage, table in (("bench_offer", "service_offer"), ("bench_coverage", "offer_coverage")):
                await owner.execute(
                    f"CREATE TEMPORARY TABLE {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
                )
            await owner.copy_records_to_table("bench_offer", records=offers, columns=list(OFFER_COLUMNS))
            await owner.copy_records_to_table(
                "bench_coverage", records=coverage, columns=list(COVERAGE_COLUMNS)
            )
            columns = ", ".join(OFFER_COLUMNS)
            await owner.execute(f"INSERT INTO service_offer ({columns}) SELECT {columns} FROM bench_offer")
            columns = ", ".join(COVERAGE_COLUMNS)
            await owner.execute(
                f"INSERT INTO offer_coverage ({columns}) SELECT {columns} FROM bench_coverage"
            )
        done += size
        progress.update(task, advance=size)
    for table in ("organisation", "service_offer", "offer_coverage"):  # as autovacuum would
        await owner.execute(f"VACUUM ANALYZE {table}")


# ---------------------------------------------------------------- the queries and both endpoints

QUERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("text, no accent", {"q": "aide menagere"}),
    ("text, typo", {"q": "portage de repa"}),
    ("text + commune", {"q": "aide menagere", "commune": "40192"}),
    ("text + commune (2)", {"q": "teleassistance", "commune": "33063"}),
    ("words + commune", {"q": "garde de nuit alzheimer", "commune": "64445"}),
    ("commune + type", {"commune": "64445", "type": "home_nursing"}),
    ("type + max price", {"type": "meals_on_wheels", "prix_max": "12"}),
    ("commune only", {"commune": "40088"}),
    ("no filter", {}),
)
"""What people search: free text without accents or with a typo, a commune, a type, a price."""


def search_arguments(params: dict[str, str]) -> dict[str, Any]:
    """The arguments of ``build_search`` for the bare handler: the strings as sent, checked as little
    as the statement needs (the app's parsing is part of what is measured on its side)."""
    price = params.get("prix_max")
    return {
        "query": params.get("q", ""),
        "commune": params.get("commune") or None,
        "service_type": params.get("type") or None,
        "max_price_cents": int(price) * 100 if price and price.isdigit() else None,
    }


def bare_app(pool: asyncpg.Pool, tenant_id: uuid.UUID) -> Litestar:
    """One handler: the search's own SQL on raw asyncpg, in the tenant's scope, rows as JSON."""
    scope = f"SET LOCAL app.tenant_id = '{tenant_id}'"

    @get("/search")
    async def search(
        q: str = "", commune: str | None = None, type: str | None = None, prix_max: str | None = None
    ) -> dict[str, Any]:
        params = {"q": q, "commune": commune or "", "type": type or "", "prix_max": prix_max or ""}
        try:
            sql, values = build_search(**search_arguments(params))
        except InvalidInput as refused:
            return {"error": refused.detail}
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(scope)
            rows = await connection.fetch(sql, *values)
        return {
            "total": rows[0]["total"] if rows else 0,
            "results": [
                {
                    "id": str(row["id"]),
                    "title": row["title"],
                    "description": row["description"],
                    "service_type": row["service_type"],
                    "provider": row["provider_name"],
                    "price_cents": row["price_cents"],
                    "price_unit": row["price_unit"],
                    "lead_time_days": row["lead_time_days"],
                    "opening_hours": row["opening_hours"],
                    "accepted_programmes": list(row["accepted_programmes"] or []),
                    "languages": list(row["languages"] or []),
                    "score": row["score"],
                }
                for row in rows
            ],
        }

    return Litestar([search])


@dataclass
class Line:
    """Latencies of one endpoint at one size, by query."""

    label: str
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    seconds: float = 0.0

    @property
    def all(self) -> list[float]:
        return sorted(value for values in self.latencies.values() for value in values)

    @property
    def per_second(self) -> float:
        return len(self.all) / self.seconds

    def p50(self, query: str | None = None) -> float:
        values = sorted(self.latencies[query]) if query else self.all
        return statistics.median(values) * 1000

    def p95(self, query: str | None = None) -> float:
        values = sorted(self.latencies[query]) if query else self.all
        return values[max(0, math.ceil(len(values) * 0.95) - 1)] * 1000


async def drive(
    line: Line,
    send: Callable[[dict[str, str]], Awaitable[None]],
    plan: list[tuple[str, dict[str, str]]],
    clients: int,
) -> None:
    """Send ``plan`` with ``clients`` concurrent clients; time each request and the whole round."""
    queue: Iterator[tuple[str, dict[str, str]]] = iter(plan)

    async def client() -> None:
        for name, params in queue:
            started = time.perf_counter()
            await send(params)
            line.latencies[name].append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    line.seconds += time.perf_counter() - started


# ---------------------------------------------------------------- EXPLAIN

EXPLAINED = (
    "text + commune",
    "text, typo",
    "commune + type",
    "commune only",
    "type + max price",
    "no filter",
)
INDEXES = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)")


async def explain(pool: asyncpg.Pool, owner: asyncpg.Connection, tenant_id: uuid.UUID) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the main shapes as the application role, and their indexes.

    When the owner is a superuser (the embedded server), the same statements planned without
    row-level security too (superusers bypass it; the bench territory is the only one with offers),
    to show which indexes the policy keeps the planner from using."""
    lines: list[str] = []
    wanted = dict(QUERIES)
    if await owner.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        for name in EXPLAINED:
            sql, values = build_search(**search_arguments(wanted[name]))
            plan = [row[0] for row in await owner.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *values)]
            used = sorted(set(INDEXES.findall("\n".join(plan))))
            lines.append(
                f"without row-level security — {name}: indexes {', '.join(used) or 'none'}, "
                f"{_execution_time(plan)}"
            )
    async with pool.acquire() as connection:
        for name in EXPLAINED:
            sql, values = build_search(**search_arguments(wanted[name]))
            async with connection.transaction():
                await connection.execute(f"SET LOCAL app.tenant_id = '{tenant_id}'")
                plan = [
                    row[0] for row in await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *values)
                ]
                await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                generic = await generic_plan(connection, sql, values)
            used = sorted(set(INDEXES.findall("\n".join(plan))))
            used_generic = sorted(set(INDEXES.findall("\n".join(generic))))
            lines += [
                f"── {name} {wanted[name]}: indexes {', '.join(used) or 'none'}; "
                f"generic plan: {', '.join(used_generic) or 'none'} "
                f"({_execution_time(generic)} vs {_execution_time(plan)} custom)",
                *plan,
            ]
    return lines


async def generic_plan(connection: asyncpg.Connection, sql: str, values: list[object]) -> list[str]:
    """The plan PostgreSQL would cache for any parameters (what a prepared statement may switch to)."""
    await connection.execute(f"PREPARE bench_search AS {sql}")
    try:
        # EXECUTE takes no bind parameters: the values are quoted by the server itself.
        literals = [
            await connection.fetchval(
                "SELECT quote_nullable($1::text)", None if value is None else str(value)
            )
            for value in values
        ]
        rows = await connection.fetch(
            f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_search({', '.join(literals)})"
        )
        return [row[0] for row in rows]
    finally:
        await connection.execute("DEALLOCATE bench_search")


def _execution_time(plan: list[str]) -> str:
    found = next((line for line in reversed(plan) if line.startswith("Execution Time")), "")
    return found.split(":", 1)[-1].strip() or "?"


async def plan_choices(pool: asyncpg.Pool, label: str) -> str:
    """How often each connection's prepared search statements were planned generic or custom."""
    connections = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        generic = custom = 0
        for connection in connections:
            row = await connection.fetchrow(
                "SELECT coalesce(sum(generic_plans), 0) AS g, coalesce(sum(custom_plans), 0) AS c "
                "FROM pg_prepared_statements WHERE statement LIKE '%FROM service_offer o%'"
            )
            generic, custom = generic + row["g"], custom + row["c"]
        return f"{label}: {custom} custom plans, {generic} generic plans"
    finally:
        for connection in connections:
            await pool.release(connection)


# ---------------------------------------------------------------- the run


@dataclass
class Measured:
    size: int
    bare: Line
    app: Line
    totals: dict[str, int]


async def run(
    sizes: list[int],
    rounds: int,
    per_round: int,
    clients: int,
    providers: int,
    server_url: str | None,
    data_dir: Path,
) -> tuple[list[Measured], list[str]]:
    throwaway = with_database(server_url, f"parcours_bench_{secrets.token_hex(4)}") if server_url else None
    settings = Settings(
        data_dir=data_dir,
        database_url=throwaway,
        master_key=SecretStr(base64.b64encode(secrets.token_bytes(32)).decode()),
        base_url="http://localhost",
    )
    server = DatabaseServer(settings)
    urls = server.start()
    try:
        return await measure_all(urls, settings, sizes, rounds, per_round, clients, providers)
    finally:
        await DB.close_pool()
        server.stop()
        if throwaway is not None:
            await drop_database(throwaway)


async def drop_database(owner_url: str) -> None:
    connection = await asyncpg.connect(with_database(owner_url, "postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database_name(owner_url)}" WITH (FORCE)')
    finally:
        await connection.close()


async def measure_all(
    urls: DatabaseUrls,
    settings: Settings,
    sizes: list[int],
    rounds: int,
    per_round: int,
    clients: int,
    provider_count: int,
) -> tuple[list[Measured], list[str]]:
    await migrate(urls)
    configure_engine(urls.app)
    runtime = build_runtime(settings)
    tenant = await create_tenant("bench-" + uuid.uuid4().hex[:6], "Banc d'essai", list(DEPARTEMENTS), [])
    providers = [
        (
            await create_organisation(
                tenant.id,
                kind="home_help_provider",
                name=f"Services à domicile {SECTORS[i % len(SECTORS)]} {i}",
            )
        ).id
        for i in range(provider_count)
    ]
    generator = Generator(tenant.id, providers)
    owner = await asyncpg.connect(urls.owner)
    pool = await asyncpg.create_pool(urls.app, min_size=clients, max_size=clients)
    app_pool = await DB.ensure_pool(min_size=clients, max_size=clients)
    try:
        return await measure_sizes(
            tenant, generator, owner, pool, app_pool, runtime, sizes, rounds, per_round, clients
        )
    finally:
        await owner.close()
        await pool.close()


async def measure_sizes(
    tenant: TenantRecord,
    generator: Generator,
    owner: asyncpg.Connection,
    pool: asyncpg.Pool,
    app_pool: asyncpg.Pool,
    runtime: Runtime,
    sizes: list[int],
    rounds: int,
    per_round: int,
    clients: int,
) -> tuple[list[Measured], list[str]]:
    from web.app import create_app  # after the engine is configured

    path = f"/t/{tenant.slug}/api/v1/services"
    measured: list[Measured] = []
    transport = httpx.ASGITransport
    async with (
        httpx.AsyncClient(
            transport=transport(app=bare_app(pool, tenant.id)), base_url="http://bench"
        ) as bare,
        httpx.AsyncClient(
            transport=transport(app=create_app(runtime, start_jobs=False)), base_url="http://bench"
        ) as http,
    ):

        async def send_bare(params: dict[str, str]) -> dict[str, Any]:
            response = await bare.get("/search", params=params)
            assert response.status_code == 200, response.text
            return dict(response.json())

        async def send_app(params: dict[str, str]) -> dict[str, Any]:
            response = await http.get(path, params=params)
            assert response.status_code == 200, response.text
            return dict(response.json())

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            seeded = 0
            for size in sizes:
                await seed(owner, generator, size - seeded, progress, f"seeding {seeded:,} → {size:,} offers")
                seeded = size
                totals = {}
                for name, params in QUERIES:  # the same answer both ways; warms both up
                    expected = (await send_bare(params))["total"]
                    got = (await send_app(params))["total"]
                    assert got == expected, f"{name}: Parcours finds {got}, bare {expected}"
                    totals[name] = expected
                bare_line, app_line = (
                    Line("bare (Litestar + asyncpg)"),
                    Line("Parcours (GET /api/v1/services)"),
                )
                task = progress.add_task(
                    f"measuring at {size:,} offers", total=2 * rounds * per_round * len(QUERIES)
                )
                shuffler = random.Random(size)  # noqa: S311 - the order of the queries, not a secret
                for round_number in range(rounds):
                    plan = [query for query in QUERIES for _ in range(per_round)]
                    shuffler.shuffle(plan)
                    pair = [(bare_line, send_bare), (app_line, send_app)]
                    if round_number % 2:
                        pair.reverse()  # alternate who goes first
                    for line, send in pair:

                        async def one(params: dict[str, str], send: Any = send, task: Any = task) -> None:
                            await send(params)
                            progress.advance(task)

                        await drive(line, one, plan, clients)
                measured.append(Measured(size, bare_line, app_line, totals))
        notes = [await plan_choices(pool, "bare"), await plan_choices(app_pool, "Parcours")]
        notes += await explain(pool, owner, tenant.id)
    return measured, notes


def report(measured: list[Measured], clients: int, rounds: int, per_round: int) -> list[str]:
    lines = [
        f"marketplace search — {len(QUERIES)} queries × {per_round} × {rounds} rounds per line, "
        f"{clients} concurrent clients, in-process ASGI (httpx), pools of {clients} connections",
        f"{'offers':>8} {'':34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}",
    ]
    for m in measured:
        for line in (m.bare, m.app):
            lines.append(
                f"{m.size:>8,} {line.label:34} {line.per_second:8.1f} {line.p50():8.2f} {line.p95():8.2f}"
            )
        lines.append(
            f"{'':>8} {'Parcours / bare':34} {m.app.per_second / m.bare.per_second:8.2f} "
            f"{m.app.p50() / m.bare.p50():8.2f} {m.app.p95() / m.bare.p95():8.2f}   (req/s ratio; p50, p95 ×)"
        )
    if len(measured) > 1:
        first, last = measured[0], measured[-1]
        bare_growth, app_growth = last.bare.p95() / first.bare.p95(), last.app.p95() / first.app.p95()
        lines.append(
            f"p95 growth {first.size:,} → {last.size:,} offers: bare ×{bare_growth:.2f}, "
            f"Parcours ×{app_growth:.2f}"
        )
    header = f"{'query':22} " + " ".join(f"{'hits':>7} {'bare p95':>9} {'app p95':>8}" for _ in measured)
    lines += ["", "p95 ms by query (" + ", then ".join(f"{m.size:,}" for m in measured) + " offers)", header]
    for name, _ in QUERIES:
        cells = " ".join(
            f"{m.totals[name]:7,} {m.bare.p95(name):9.2f} {m.app.p95(name):8.2f}" for m in measured
        )
        lines.append(f"{name:22} {cells}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="offer counts, ascending (comma-separated)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating bare / Parcours rounds per size")
    parser.add_argument("--per-round", type=int, default=8, help="requests of each query per round")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (and pool size)")
    parser.add_argument("--providers", type=int, default=60, help="provider organisations")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PARCOURS_DATABASE_URL") or None,
        help="PostgreSQL owner URL: a throw-away database is created there (default: embedded PostgreSQL)",
    )
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="parcours-bench-") as data_dir:
        measured, notes = asyncio.run(
            run(
                sizes,
                args.rounds,
                args.per_round,
                args.clients,
                args.providers,
                args.database_url,
                Path(data_dir),
            )
        )
    table = Table(title="Marketplace search")
    for column in ("offers", "line", "req/s", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "line" else "right")
    for m in measured:
        for line in (m.bare, m.app):
            table.add_row(
                f"{m.size:,}", line.label, f"{line.per_second:.1f}", f"{line.p50():.2f}", f"{line.p95():.2f}"
            )
    console.print(table)
    print("\n".join(report(measured, args.clients, args.rounds, args.per_round)))
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
