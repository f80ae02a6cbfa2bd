"""The `xiuhua` command."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from settings import Settings

console = Console(stderr=True)
out = Console()
CHUNK = 100_000


class UsageProblem(click.ClickException):
    """A problem with the user's input: one line, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.secho(f"error: {self.message}", err=True, fg="red")


@contextmanager
def _clear_errors() -> Iterator[None]:
    import sqlalchemy as sa

    from geo.errors import GeoError
    from store.errors import StoreError

    try:
        yield
    except (GeoError, StoreError) as exc:
        raise UsageProblem(str(exc)) from None
    except sa.exc.OperationalError as exc:
        raise UsageProblem(f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}") from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UsageProblem(str(exc)) from None


def _settings() -> Settings:
    return Settings.from_env()


@contextmanager
def _store(check: bool = True) -> Iterator[Any]:
    """The store XIUHUA_DATABASE_URL names, closed whatever happens."""
    from store.registry import open_store

    store = open_store(_settings().database_url, check=check)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Write to a temporary folder beside `path`; move the result (with any sidecar files, as a Shapefile has)
    into place only if everything succeeded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.", dir=path.parent) as tmp_dir:
        tmp = Path(tmp_dir) / path.name
        yield tmp
        for produced in Path(tmp_dir).iterdir():
            produced.replace(path.parent / produced.name)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Xiuhua (绣花): the city-management command-centre map."""


@main.command("build-city")
@click.argument("city")
def build_city_cmd(city: str) -> None:
    """Build data/CITY/build/city.gpkg from the city's sources and city.toml (deterministic)."""
    from cities.build import build_city
    from cities.config import load_config

    with _clear_errors():
        cfg = load_config(city, _settings().data_dir)
        steps = [
            "cutting",
            "sub-districts",
            "cells",
            "communities",
            "numbering",
            "uniting",
            "zones",
            "writing",
        ]
        with _progress() as bar:
            task = bar.add_task(f"building {cfg.name_en}", total=len(steps))

            def step(message: str) -> None:
                bar.update(task, advance=1, description=message)

            path = build_city(cfg, step)
            bar.update(task, completed=len(steps), description="built")
    out.print(f"built {path}")


@main.command()
@click.argument("city", required=False)
def summary(city: str | None) -> None:
    """Print what a built city contains."""
    from cities.config import load_config
    from geo.ownership import load_city

    with _clear_errors():
        cfg = load_config(city or _settings().city, _settings().data_dir)
        c = load_city(cfg.gpkg)
    t = Table(title=f"{c.meta['city_name']} {c.meta['city_name_en']} — {cfg.gpkg}")
    for col in ("layer", "features", "synthetic", "notes"):
        t.add_column(col)
    cells = c.layers["grid_cells"]
    notes = {
        "grid_cells": ", ".join(f"{n} of {s} m" for s, n in cells["cell_size_m"].value_counts().sort_index().items()),
        "subdistricts": ", ".join(f"{n} {k}" for k, n in c.layers["subdistricts"]["kind"].value_counts().items()),
        "vendor_zones": f"{int(c.layers['vendor_zones']['stalls'].sum())} stalls",
        "squads": ", ".join(f"{n} {k}" for k, n in c.layers["squads"]["type"].value_counts().items()),
    }
    for name, gdf in c.layers.items():
        t.add_row(name, str(len(gdf)), "yes" if bool(gdf["synthetic"].all()) else "no", notes.get(name, ""))
    t.add_row(
        "matters",
        str(len(c.matters)),
        "config: demo defaults",
        "lead/supporting departments, squad type, deadline",
    )
    t.add_row("departments", str(len(c.departments)), "config", "")
    t.add_row("routing_rules", str(len(c.rules)), "config", " → ".join(r.rule for r in c.rules))
    out.print(t)
    out.print(
        f"land area {c.layers['land']['area_m2'].sum() / 1e6:.1f} km²; metric CRS {c.metric_crs}; "
        "synthetic shapes are marked synthetic=true in every layer"
    )
    import sqlalchemy as sa

    from store.errors import StoreError

    try:
        with _store() as store:
            states = store.count_by_state()
            n_users = len(store.list_users())
        out.print(
            f"store {_settings().database_url}: {sum(states.values())} cases "
            f"({', '.join(f'{k} {v}' for k, v in sorted(states.items()))}); {n_users} accounts"
        )
    except (StoreError, sa.exc.OperationalError) as exc:
        out.print(f"store: {str(exc).splitlines()[0]}", soft_wrap=True)


def _chunks(n: int, label: str, work: Callable[[slice], None]) -> None:
    with _progress() as bar:
        task = bar.add_task(label, total=n)
        for start in range(0, n, CHUNK):
            sl = slice(start, min(n, start + CHUNK))
            work(sl)
            bar.update(task, advance=sl.stop - sl.start)


@main.command()
@click.option("--points", "points", required=True, type=click.Path(path_type=Path), help="CSV of points.")
@click.option("--lon-col", default="lon", show_default=True)
@click.option("--lat-col", default="lat", show_default=True)
@click.option("--crs", "crs_text", default="wgs84", show_default=True, help="wgs84, gcj02, bd09 or EPSG:n.")
@click.option("--layer", "layer_specs", multiple=True, help="NAME=FILE[:ID_FIELD]; repeatable.")
@click.option("--metric-crs", default=None, help="Metric CRS for --layer look-ups (default: a UTM zone).")
@click.option("--matter-col", default="matter", show_default=True, help="Column with matter codes (demo city).")
@click.option("--time-col", default="time", show_default=True, help="Column with local times (demo city).")
@click.option("--matter", "matter_default", default=None, help="Matter code for rows without one.")
@click.option("--at", "at_default", default=None, help="Time (ISO) for rows without one; default now.")
@click.option("--city", default=None, help="Built city to resolve against (default XIUHUA_CITY).")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path))
def resolve(
    points: Path,
    lon_col: str,
    lat_col: str,
    crs_text: str,
    layer_specs: tuple[str, ...],
    metric_crs: str | None,
    matter_col: str,
    time_col: str,
    matter_default: str | None,
    at_default: str | None,
    city: str | None,
    out_path: Path,
) -> None:
    """Resolve every point to its owners: given layers, or the built city's full ownership answer."""
    with _clear_errors():
        from dispatch.sheet import write_table
        from geo.points import read_points

        df, lon, lat = read_points(points, crs_text, lon_col, lat_col)
        if layer_specs:
            result = _resolve_layers(df, lon, lat, layer_specs, metric_crs)
        else:
            result = _resolve_city(df, points, lon, lat, matter_col, time_col, matter_default, at_default, city)
        with _atomic(out_path) as tmp:
            write_table(result, tmp, "csv")
    out.print(f"resolved {len(df)} points → {out_path}")


def _resolve_layers(
    df: pd.DataFrame, lon: np.ndarray, lat: np.ndarray, specs: tuple[str, ...], metric_crs: str | None
) -> pd.DataFrame:
    import geopandas as gpd

    from geo.errors import InvalidInput
    from geo.layers import index_layers, parse_layer_spec, read_polygons

    parsed = [parse_layer_spec(s) for s in specs]
    names = [p.name for p in parsed]
    if len(set(names)) != len(names):
        raise InvalidInput("--layer names must be unique")
    clash = [n for n in names if n in df.columns]
    if clash:
        raise InvalidInput(f"--layer name {clash[0]!r} is already a column of the points file")
    layers = {p.name: read_polygons(p) for p in parsed}
    if metric_crs is None:
        metric_crs = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").estimate_utm_crs().to_string()
    lattice, index = index_layers(layers, metric_crs)
    flat, near = lattice.flat_index(*lattice.projection(lon, lat))
    result = df.copy()
    for name, idx in index.items():
        k = idx.locate(lon, lat, flat, near)
        result[name] = np.where(k >= 0, idx.ids[np.maximum(k, 0)], "")
    return result


def _resolve_city(
    df: pd.DataFrame,
    path: Path,
    lon: np.ndarray,
    lat: np.ndarray,
    matter_col: str,
    time_col: str,
    matter_default: str | None,
    at_default: str | None,
    city: str | None,
) -> pd.DataFrame:
    from cities.config import load_config
    from geo.errors import InvalidInput
    from geo.ownership import OwnershipEngine, load_city

    s = _settings()
    cfg = load_config(city or s.city, s.data_dir)
    c = load_city(cfg.gpkg)
    from geo.points import refuse_swapped

    minx, miny, maxx, maxy = (float(v) for v in c.layers["districts"].total_bounds)
    outside = refuse_swapped(path, lon, lat, (minx, miny, maxx, maxy))
    n = len(df)
    if matter_col in df.columns:
        matter = df[matter_col].str.strip().to_numpy()
        if matter_default:
            matter = np.where(matter == "", matter_default, matter)
    elif matter_default:
        matter = np.full(n, matter_default)
    else:
        raise InvalidInput(f"{path}: no {matter_col!r} column; give --matter CODE or --matter-col")
    empty = np.flatnonzero(matter == "")
    if len(empty):
        raise InvalidInput(f"{path}: rows {', '.join(str(r + 2) for r in empty[:5])} have no matter code")
    if time_col in df.columns:
        at = pd.to_datetime(df[time_col].str.strip(), errors="coerce")
        bad = np.flatnonzero(at.isna().to_numpy())
        if len(bad):
            raise InvalidInput(f"{path}: unparsable time at rows {', '.join(str(r + 2) for r in bad[:5])}")
    else:
        try:
            when = datetime.fromisoformat(at_default) if at_default else datetime.now()
        except ValueError:
            raise InvalidInput(f"--at {at_default!r}: expected an ISO time like 2026-11-27T19:30") from None
        at = pd.Series([when] * n)
    engine = OwnershipEngine(c)
    parts: list[pd.DataFrame] = []
    _chunks(
        n,
        "resolving",
        lambda sl: parts.append(engine.resolve_many(lon[sl], lat[sl], matter[sl], at.iloc[sl].to_numpy())),
    )
    res = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    res = res.drop(columns=["lon", "lat", "matter", "rule_index"], errors="ignore")
    res["outside_city"] = outside
    res = res.add_prefix("xh_")
    return pd.concat([df.reset_index(drop=True), res], axis=1)


@main.command()
@click.option("--layer", "layer_specs", multiple=True, required=True, help="NAME=FILE[:ID_FIELD]; repeatable.")
@click.option("--area", type=click.Path(path_type=Path), default=None, help="Polygons the layer should cover.")
@click.option("--metric-crs", default=None, help="Metric CRS for areas (default: a UTM zone).")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path))
def audit(layer_specs: tuple[str, ...], area: Path | None, metric_crs: str | None, out_path: Path) -> None:
    """Find gaps, overlaps (with who) and slivers in layers of responsibility polygons."""
    import geopandas as gpd
    import pyogrio
    import shapely

    from geo.audit import audit_layer, summarise
    from geo.layers import LayerSpec, parse_layer_spec, read_polygons

    with _clear_errors():
        layers = {s.name: read_polygons(s) for s in map(parse_layer_spec, layer_specs)}
        area_geom = None
        if area is not None:
            area_gdf = read_polygons(LayerSpec("area", area, None))
            area_geom = shapely.union_all(np.asarray(area_gdf.geometry.values))
        if metric_crs is None:
            metric_crs = next(iter(layers.values())).estimate_utm_crs().to_string()
        found = []
        with _progress() as bar:
            task = bar.add_task("auditing", total=len(layers))
            for name, gdf in layers.items():
                f = audit_layer(gdf, "owner_id", metric_crs, area_geom)
                f.insert(0, "layer", name)
                found.append(f)
                bar.update(task, advance=1)
        report = gpd.GeoDataFrame(pd.concat(found, ignore_index=True), geometry="geometry", crs="EPSG:4326")
        with _atomic(out_path) as tmp:
            pyogrio.write_dataframe(report, tmp, driver="GeoJSON")
    t = Table(title=f"audit → {out_path}")
    for col in ("layer", "kind", "sliver", "count", "area m²"):
        t.add_column(col)
    for name, f in zip(layers, found, strict=True):
        s = summarise(f)
        if s.empty:
            t.add_row(name, "no gaps or overlaps", "", "0", "0")
        for r in s.itertuples():
            t.add_row(name, str(r.kind), "yes" if r.sliver else "no", str(r.count), f"{r.area_m2:,.1f}")
    out.print(t)


@main.group()
def db() -> None:
    """The database that XIUHUA_DATABASE_URL names (the embedded SQLite file by default)."""


@db.command()
def upgrade() -> None:
    """Create or migrate the schema to the version this code needs."""
    from store import migrate

    with _clear_errors(), _store(check=False) as store:
        before, after = migrate.upgrade(store.engine)
    url = _settings().database_url
    out.print(
        f"{url}: schema {before or 'empty'} → {after}" if before != after else f"{url}: schema is current ({after})"
    )


@main.group()
def users() -> None:
    """Accounts and their roles."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role", required=True, help="supervisor, acceptor, shift_lead, dispatcher, unit, district_head, wall, admin"
)
@click.option(
    "--district", "districts", multiple=True, help="District code in the user's scope; repeatable (none: all)."
)
@click.option("--unit", default=None, help="For role unit: the squad or department it acts for.")
@click.option("--display-name", default="", help="Name shown in the app.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of asking.")
def users_add(
    username: str, role: str, districts: tuple[str, ...], unit: str | None, display_name: str, password_stdin: bool
) -> None:
    """Add an account (the password is hashed with argon2)."""
    with _clear_errors():
        _city_codes().check_account(role, districts, unit)
    password = _password(password_stdin)
    with _clear_errors(), _store() as store:
        user = store.add_user(username, password, role, districts, display_name, unit)
    out.print(
        f"added {user.username} ({user.role}{', districts ' + ','.join(user.districts) if user.districts else ''})"
    )


def _city_codes() -> Any:
    """The built city's district and unit codes, which accounts are checked against."""
    from cities.codes import read_codes
    from cities.config import load_config

    s = _settings()
    return read_codes(load_config(s.city, s.data_dir).gpkg)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@users.command("set")
@click.argument("username")
@click.option("--role", default=None, help="A new role.")
@click.option(
    "--district", "districts", multiple=True, help="The new district scope (repeatable); see --all-districts."
)
@click.option("--all-districts", is_flag=True, help="Clear the district scope: every district.")
@click.option("--unit", default=None, help="The squad or department a unit account acts for.")
@click.option("--disable", "active", flag_value=False, default=None, help="The account may no longer sign in.")
@click.option("--enable", "active", flag_value=True, help="The account may sign in again.")
@click.option("--password", "new_password", is_flag=True, help="Set a new password (asked, or --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.option(
    "--cells", default=None, help='An inspector\'s patrol cells: grid cell codes, comma-separated ("" clears them).'
)
def users_set(
    username: str,
    role: str | None,
    districts: tuple[str, ...],
    all_districts: bool,
    unit: str | None,
    active: bool | None,
    new_password: bool,
    password_stdin: bool,
    cells: str | None,
) -> None:
    """Change an account: role, district scope, unit, enabled or not, password, patrol cells. Any change but the
    cells signs it out."""
    with _clear_errors():
        _city_codes().check_account(role or "", districts, unit)
    password = _password(password_stdin) if (new_password or password_stdin) else None
    scope = [] if all_districts else (list(districts) or None)
    wanted = [c.strip() for c in (cells or "").split(",") if c.strip()]
    with _clear_errors(), _store() as store:
        before = store.get_user(username)
        if cells is not None:  # checked against the account as it will be, before anything changes
            _check_cells(wanted, role or before.role, tuple(scope) if scope is not None else before.districts)
        changes = (password, role, scope, active, unit)
        user = (
            store.update_user(username, password=password, role=role, districts=scope, active=active, unit=unit)
            if cells is None or any(v is not None for v in changes)
            else before
        )
        patrol = store.set_patrol_cells(username, wanted) if cells is not None else store.patrol_cells(username)
    out.print(
        f"{user.username}: {user.role}, districts {','.join(user.districts) or 'all'}, "
        f"{'enabled' if user.active else 'disabled'}" + (f", {len(patrol)} patrol cells" if cells is not None else "")
    )


def _check_cells(wanted: list[str], role: str, districts: tuple[str, ...]) -> None:
    from cities.codes import check_patrol_cells, read_cells
    from cities.config import load_config

    s = _settings()
    check_patrol_cells(read_cells(load_config(s.city, s.data_dir).gpkg), wanted, role, districts)


@users.command("list")
def users_list() -> None:
    """List accounts."""
    with _clear_errors(), _store() as store:
        rows = store.list_users()
        patrols = {u.username: len(store.patrol_cells(u.username)) for u in rows if u.role == "supervisor"}
    t = Table(title="users")
    for col in ("user", "name", "role", "districts", "unit", "patrol cells", "active"):
        t.add_column(col)
    for u in rows:
        t.add_row(
            u.username,
            u.display_name,
            u.role,
            ",".join(u.districts) or "all",
            u.unit or "",
            str(patrols[u.username]) if u.username in patrols else "",
            "yes" if u.active else "no",
        )
    out.print(t)


@main.group("api-keys")
def api_keys() -> None:
    """Keys of Open311 clients (/open311/v2): only their sha256 is stored."""


@api_keys.command("add")
@click.argument("name")
@click.option("--channel", default="app", show_default=True, help="hotline, app or partner (sets the cases' source).")
@click.option("--rate", default=60, show_default=True, type=click.IntRange(1, 100_000), help="POSTs a minute.")
def api_keys_add(name: str, channel: str, rate: int) -> None:
    """Issue a key; it is printed once, alone on the last line, and cannot be shown again."""
    from datetime import UTC, datetime

    from dispatch.open311 import issue_key

    with _clear_errors(), _store() as store:
        key, secret = issue_key(store, name, channel, rate, datetime.now(UTC))
    out.print(f"added API key {key.name} (channel {key.channel}, {key.rate_per_minute} POSTs a minute); the key:")
    click.echo(secret)


@api_keys.command("list")
def api_keys_list() -> None:
    """List keys: channel, created, revoked, rate limit and calls in the last day."""
    from datetime import UTC, datetime

    from dispatch.open311 import key_report

    with _clear_errors(), _store() as store:
        rows = key_report(store, datetime.now(UTC))
    t = Table(title="API keys")
    for col in ("name", "channel", "created", "revoked", "rate/min", "calls (24 h)"):
        t.add_column(col)
    for k, calls in rows:
        revoked = f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""
        t.add_row(k.name, k.channel, f"{k.created_at:%Y-%m-%d %H:%M}", revoked, str(k.rate_per_minute), str(calls))
    out.print(t)


@api_keys.command("revoke")
@click.argument("name")
def api_keys_revoke(name: str) -> None:
    """Revoke a key at once (its calls are refused with 403 from now on)."""
    from datetime import UTC, datetime

    with _clear_errors(), _store() as store:
        key = store.revoke_api_key(name, datetime.now(UTC))
    out.print(f"revoked API key {key.name}")


DEMO_PASSWORD = "xiuhua-demo"


@main.command("seed-demo")
@click.option("--cases", "n_cases", default=20_000, show_default=True, type=click.IntRange(1, 500_000))
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366))
@click.option("--until", default=None, help="End of the history (ISO time; default now).")
@click.option("--seed", default=None, type=int, help="Random seed (default: the city's).")
@click.option("--append", is_flag=True, help="Add to a store that already has cases.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if the store already has cases.")
@click.option("--city", default=None, help="Built city (default XIUHUA_CITY).")
def seed_demo_cmd(
    n_cases: int, days: int, until: str | None, seed: int | None, append: bool, if_empty: bool, city: str | None
) -> None:
    """Fill the store with demo accounts and a synthetic, deterministic history of cases."""
    from datetime import UTC

    from cities.config import load_config
    from dispatch.demo import seed_demo
    from dispatch.media import PhotoStore
    from geo.errors import InvalidInput

    s = _settings()
    with _clear_errors(), _store() as store:
        cfg = load_config(city or s.city, s.data_dir)
        have = sum(store.count_by_state().values())
        if have and if_empty:
            out.print(f"{s.database_url} already has {have} cases; not seeding")
            return
        if have and not append:
            raise InvalidInput(f"{s.database_url} already has cases; use --append, or a fresh database")
        try:
            end = datetime.fromisoformat(until) if until else datetime.now(UTC)
        except ValueError:
            raise InvalidInput(f"--until {until!r}: expected an ISO time like 2026-11-27T18:00") from None
        wf = _workflow(store, city)
        end = end if end.tzinfo else end.replace(tzinfo=wf.calendar.tz)
        with _progress() as bar:
            task = bar.add_task("simulating cases", total=n_cases)
            count, added = seed_demo(
                wf,
                n_cases,
                days,
                end,
                cfg.seed if seed is None else seed,
                DEMO_PASSWORD,
                lambda k: bar.update(task, advance=k),
                PhotoStore(s.media_root, s.photo_max_mb * 1024 * 1024),
            )
            bar.update(task, completed=n_cases)
        states = store.count_by_state()
    out.print(
        f"seeded {count} synthetic cases over {days} days up to {end:%Y-%m-%d %H:%M} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(states.items()))})"
    )
    if added:
        out.print(f"demo accounts (password {DEMO_PASSWORD!r}, for the demo only): {', '.join(added)}")


@main.command("demo")
@click.option("--live", is_flag=True, help="Then keep adding cases and moving open ones along (Ctrl-C stops).")
@click.option(
    "--interval", default=5.0, show_default=True, type=click.FloatRange(0.0, 3600.0), help="Seconds between ticks."
)
@click.option(
    "--per-tick", default=3, show_default=True, type=click.IntRange(0, 1000), help="New cases (and moves) a tick."
)
@click.option("--ticks", default=0, type=click.IntRange(0), help="Stop after this many ticks (0: never).")
@click.option(
    "--chronic-every", default=12, show_default=True, type=click.IntRange(0), help="Run the chronic fast track "
    "every this many ticks (0: never)."
)  # fmt: skip
def demo_cmd(live: bool, interval: float, per_tick: int, ticks: int, chronic_every: int) -> None:
    """Seed the store if it is empty; with --live, keep the demo moving for the wall display."""
    import time as _time

    from cities.config import load_config
    from dispatch.chronic import city_config
    from dispatch.demo import LiveDemo, demo_actors
    from dispatch.fast_track import run as fast_track

    ctx = click.get_current_context()
    ctx.invoke(seed_demo_cmd, n_cases=20_000, days=30, until=None, seed=None, append=False, if_empty=True, city=None)
    if not live:
        return
    with _clear_errors(), _store() as store:
        wf = _workflow(store)
        rules = city_config(load_config(_settings().city, _settings().data_dir))
        districts = sorted(wf.engine.city.layers["districts"]["code"])
        runner = LiveDemo(wf, demo_actors(store, districts), int(_time.time()))
        done = 0
        while not ticks or done < ticks:
            added, moved = runner.tick(per_tick, per_tick * 2)
            done += 1
            out.print(f"{datetime.now():%H:%M:%S} +{added} new, {moved} moved along")
            if chronic_every and done % chronic_every == 0:
                o = fast_track(wf, rules, wf.clock())
                found = f"{len(o.created)} new, {len(o.attached)} recurred, {len(o.reopened)} reopened"
                out.print(f"  chronic places: {found}")
            if not ticks or done < ticks:
                _time.sleep(interval)


def _workflow(store: Any, city: str | None = None) -> Any:
    """The workflow on the store, with the city's layers as the store's versions have them now."""
    from cities.config import load_config
    from dispatch.context import open_workflow

    s = _settings()
    cfg = load_config(city or s.city, s.data_dir)
    console.print("loading the city …")
    return open_workflow(store, cfg)


@main.command()
@click.option("--period", required=True, help="A month: 2026-11.")
@click.option(
    "--level",
    type=click.Choice(["district", "subdistrict", "squad", "department", "inspector", "dispatcher", "shift_lead"]),
    default="district",
    show_default=True,
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Default: the city's language.")
@click.option("--explain", is_flag=True, help="Each indicator with its formula and the numbers put in.")
def scores(period: str, level: str, lang: str | None, explain: bool) -> None:
    """The evaluation (考评) of a month at one level: indicators, composite score, grade and rank, as
    data/<city>/evaluation.toml declares them."""
    from zoneinfo import ZoneInfo

    from cities.config import load_config
    from dispatch.evaluation import EvaluationError, evaluate, evaluation_file, load, month
    from web.names import city_names

    s = _settings()
    cfg = load_config(s.city, s.data_dir)
    language = lang or cfg.language
    try:
        start, end = month(period, ZoneInfo(cfg.timezone))
        ev = load(evaluation_file(cfg.root))
    except (ValueError, EvaluationError) as exc:
        raise UsageProblem(str(exc)) from None
    with _clear_errors(), _store() as store:
        wf = _workflow(store)
        result = evaluate(wf, ev, level, start, end)
        people = {u.username: u.display_name or u.username for u in store.list_users()}
    names = city_names(wf.engine.city)
    kind = {"squad": "unit", "department": "unit"}.get(level, level)

    def name(group: str) -> str:
        found = people.get(group, group) if level in ("inspector", "dispatcher", "shift_lead") else None
        return found or f"{names.name(kind, group, language)} ({group})"

    keys = list(ev.schemes[level].weights)
    t = Table(title=f"{level} · {period}")
    for col in ("rank", level, *(ev.indicators[k].name(language) for k in keys), "score", "grade"):
        t.add_column(col, justify="right" if col not in (level,) else "left")
    for sc in result.scores:
        cells = [f"{sc.values[k].value * 100:.1f}%" if sc.values[k].value is not None else "—" for k in keys]
        total = f"{sc.total:.1f}" if sc.total is not None else "—"
        t.add_row(str(sc.rank or "—"), name(sc.group), *cells, total, sc.grade or "—")
    out.print(t)
    if explain:
        for sc in result.scores:
            for k in keys:
                v = sc.values[k]
                shown = f"{v.value * 100:.1f}%" if v.value is not None else "—"
                out.print(f"{name(sc.group)}  {ev.indicators[k].name(language)} = {v.numbers} = {shown}")


@main.group()
def chronic() -> None:
    """Chronic places (疑难杂症快处快改): the same matter recurring at one place, and their fast-track cases."""


@chronic.command("detect")
@click.option("--dry-run", is_flag=True, help="Say what would be found and done; store nothing.")
def chronic_detect(dry_run: bool) -> None:
    """Find chronic places (k reports of a matter within d days in one cell or radius, by the city.toml [chronic]
    rules); give each new one a fast-track case, filed urgent and urged; note repeats at known places (reopening
    a closed case); mark places quiet after their quiet days."""
    from cities.config import load_config
    from dispatch.chronic import city_config
    from dispatch.fast_track import run as fast_track

    s = _settings()
    with _clear_errors(), _store() as store:
        rules = city_config(load_config(s.city, s.data_dir))
        wf = _workflow(store)
        outcome = fast_track(wf, rules, datetime.now(UTC), dry_run=dry_run)
        cases = {p.id: p.fast_track_case_id for p in outcome.created}
        numbers = {i: store.get_case(i).case_no for i in cases.values() if i is not None}
    t = Table(title="chronic places " + ("that would be created (dry run)" if dry_run else "created"))
    for col in ("matter", "cell", "district", "repeats", "first (UTC)", "last (UTC)", "fast-track case"):
        t.add_column(col)
    shown = outcome.created if not dry_run else outcome.new
    for p in shown:
        case = cases.get(getattr(p, "id", -1))
        t.add_row(p.matter, p.cell or "—", p.district or "—", str(len(p.case_ids)), f"{p.first_at:%Y-%m-%d %H:%M}",
                  f"{p.last_at:%Y-%m-%d %H:%M}", numbers.get(case, "—") if case else "—")  # fmt: skip
    out.print(t)
    verb = "would be" if dry_run else "were"
    out.print(
        f"{len(shown)} new places; repeats {verb} noted at {len(outcome.attached)} known places "
        f"({sum(map(len, outcome.attached.values()))} cases); {len(outcome.reopened)} cases reopened; "
        f"{len(outcome.quiet)} places quiet; {len(outcome.closed)} closed"
    )
    for place, why in outcome.failed:  # the place is kept: the next run tries again
        click.secho(
            f"no fast-track case yet for the place of {place.matter} in {place.cell or '—'} (the next run tries "
            f"again): {why}",
            err=True,
            fg="yellow",
        )


@main.group()
def campaigns() -> None:
    """Campaigns (周期集群仗 — 治难点, 通堵点, 扫盲点): an area, a period and some matters, and how the cases there
    went during the campaign against the same length of time before it."""


def _list(text: str | None) -> list[str]:
    return [v.strip() for v in (text or "").split(",") if v.strip()]


@campaigns.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(["difficult", "congestion", "blind_spot", "other"]), required=True,
              help="difficult 治难点, congestion 通堵点, blind_spot 扫盲点, other 其他.")  # fmt: skip
@click.option("--from", "starts_on", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day.")
@click.option("--to", "ends_on", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day (inclusive).")
@click.option("--matters", default="", help="Matter codes, comma-separated (default: every matter).")
@click.option("--cells", default=None, help="Grid cell codes, comma-separated.")
@click.option("--communities", default=None, help="Community codes, comma-separated.")
@click.option("--model-streets", default=None, help="Model street ids, comma-separated.")
@click.option("--area", "area_file", type=click.Path(path_type=Path), default=None,
              help="A polygon file (GeoJSON, GeoPackage, Shapefile …).")  # fmt: skip
@click.option("--by", "actor", default="cli", show_default=True, help="Who creates it (recorded in its history).")
def campaigns_add(
    name: str,
    kind: str,
    starts_on: datetime,
    ends_on: datetime,
    matters: str,
    cells: str | None,
    communities: str | None,
    model_streets: str | None,
    area_file: Path | None,
    actor: str,
) -> None:
    """Create a campaign on an area given one way: --cells, --communities, --model-streets or --area FILE."""
    from dispatch import campaigns as camp

    given = {"cells": cells, "communities": communities, "model_streets": model_streets}
    ways = [k for k, v in given.items() if v is not None] + (["area"] if area_file is not None else [])
    if len(ways) != 1:
        raise UsageProblem("give the area one way: --cells, --communities, --model-streets or --area FILE")
    with _clear_errors(), _store() as store:
        wf = _workflow(store)
        city = wf.engine.city
        if area_file is not None:
            area, source = camp.area_from_file(area_file)
        else:
            area, source = camp.area_from_codes(city.layers, ways[0], _list(given[ways[0]]))
        new = camp.draft(name, kind, area, source, starts_on.date(), ends_on.date(), _list(matters),
                         set(city.matters["code"].astype(str)), city.layers["districts"], city.metric_crs)  # fmt: skip
        c = store.add_campaign(new, actor, datetime.now(UTC))
    out.print(f"campaign {c.id} {c.name} ({camp.KIND_ZH[c.kind]} {c.kind}) {c.starts_on} → {c.ends_on}, "
              f"districts {', '.join(c.districts)}, matters {', '.join(c.matters) or 'all'}")  # fmt: skip


@campaigns.command("list")
def campaigns_list() -> None:
    """Every campaign, running ones first."""
    from cities.config import load_config
    from dispatch import campaigns as camp

    s = _settings()
    tz = ZoneInfo(load_config(s.city, s.data_dir).timezone)
    with _clear_errors(), _store() as store:
        found = camp.running_first(store.campaigns(), datetime.now(UTC), tz)
    t = Table(title="campaigns")
    for col in ("id", "name", "kind", "from", "to", "state", "districts", "matters", "area", "by", "version"):
        t.add_column(col)
    for c in found:
        t.add_row(str(c.id), c.name, f"{camp.KIND_ZH[c.kind]} {c.kind}", str(c.starts_on), str(c.ends_on),
                  camp.state_of(c, datetime.now(UTC), tz), ", ".join(c.districts), ", ".join(c.matters) or "all",
                  c.area_source[:40], c.created_by, str(c.version))  # fmt: skip
    out.print(t)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


@campaigns.command("show")
@click.argument("name_or_id")
def campaigns_show(name_or_id: str) -> None:
    """A campaign's figures: cases by week during it against as many weeks before, closure and on-time rates,
    and the cells with most cases."""
    from cities.config import load_config
    from dispatch import campaigns as camp

    s = _settings()
    tz = ZoneInfo(load_config(s.city, s.data_dir).timezone)
    with _clear_errors(), _store() as store:
        c = camp.find(store.campaigns(), name_or_id)
        if c is None:
            raise UsageProblem(f"no campaign {name_or_id!r}; `xiuhua campaigns list` shows them")
        f = camp.figures_of(store, c, datetime.now(UTC), tz)
    out.print(f"{c.name} · {camp.KIND_ZH[c.kind]} {c.kind} · {c.starts_on} → {c.ends_on} · {f.state} · "
              f"matters {', '.join(c.matters) or 'all'} · area {c.area_source[:60]}")  # fmt: skip
    t = Table(title="cases by week (during vs the same length of time before)")
    for col in ("week", "before from", "before", "during from", "during", "change"):
        t.add_column(col, justify="right")
    for w in f.weeks:
        t.add_row(str(w.index + 1), f"{w.before_start.astimezone(tz):%Y-%m-%d}", str(w.before),
                  f"{w.during_start.astimezone(tz):%Y-%m-%d}", str(w.during), f"{w.during - w.before:+d}")  # fmt: skip
    out.print(t)
    r = Table(title="rates")
    for col in ("window", "from", "to", "reported", "closed", "closure rate", "on time", "late", "overdue open",
                "on-time rate"):  # fmt: skip
        r.add_column(col, justify="right")
    for label, w in (("before", f.before), ("during", f.during)):
        r.add_row(label, f"{w.start.astimezone(tz):%Y-%m-%d %H:%M}", f"{w.end.astimezone(tz):%Y-%m-%d %H:%M}",
                  str(w.reported), str(w.closed), _pct(w.closure_rate), str(w.closed_on_time), str(w.closed_late),
                  str(w.overdue_open), _pct(w.on_time_rate))  # fmt: skip
    out.print(r)
    worst = Table(title="worst cells (most cases during)")
    for col in ("cell", "during", "before"):
        worst.add_column(col)
    for cell, during, before in f.worst_cells:
        worst.add_row(cell, str(during), str(before))
    out.print(worst)


@main.group()
def layers() -> None:
    """Versions of the city's layers: preview a replacement, apply it, list versions."""


def _layer_change(name: str, file: Path, crs: str | None, repair: bool, write: bool) -> None:
    from datetime import UTC

    from cities.config import load_config
    from dispatch import layers as lay
    from geo.ownership import load_city

    s = _settings()
    with _clear_errors(), _store() as store:
        city = load_city(load_config(s.city, s.data_dir).gpkg)
        gdf = lay.read_layer_file(file, name, crs, repair, city=city)
        now = datetime.now(UTC)
        console.print(f"re-resolving open cases against the new {name} …")
        if write:
            version, changes = lay.apply(store, city, name, gdf, file, "cli", now)
        else:
            changes = lay.preview(store, city, name, gdf, now)
    t = Table(title=f"{name}: {len(gdf)} features from {file.name} — {len(changes)} open cases change owner")
    for col in ("case", "state", "before", "after"):
        t.add_column(col)
    for ch in changes[:50]:
        after = ch.after.columns()
        diff = [k for k in ch.before if ch.before[k] != after.get(k)]
        t.add_row(
            ch.case.case_no,
            ch.case.state,
            ", ".join(f"{k} {ch.before[k]}" for k in diff),
            ", ".join(f"{k} {after.get(k)}" for k in diff),
        )
    out.print(t)
    if len(changes) > 50:
        out.print(f"… and {len(changes) - 50} more")
    if write:
        out.print(f"applied {name} version {version.version}; {version.reassigned} open cases re-owned")
    else:
        out.print("nothing was written; `xiuhua layers apply` does it")


def _layer_args(command: Callable[..., None]) -> Callable[..., None]:
    """NAME FILE [--crs] [--repair], shared by every command that reads a layer version."""
    command = click.option("--repair", is_flag=True, help="Repair invalid polygons instead of refusing them.")(command)
    command = click.option("--crs", default=None, help="Override the file's CRS: wgs84, gcj02, bd09 or EPSG:n.")(
        command
    )
    command = click.argument("file", type=click.Path(path_type=Path))(command)
    return click.argument("name")(command)


@layers.command("preview")
@_layer_args
def layers_preview(name: str, file: Path, crs: str | None, repair: bool) -> None:
    """Which open cases would change owner if FILE replaced layer NAME."""
    _layer_change(name, file, crs, repair, write=False)


@layers.command("apply")
@_layer_args
def layers_apply(name: str, file: Path, crs: str | None, repair: bool) -> None:
    """Make FILE the next version of layer NAME and re-own every open case, in one transaction."""
    _layer_change(name, file, crs, repair, write=True)


@layers.command("list")
def layers_list() -> None:
    """The stored layer versions."""
    with _clear_errors(), _store() as store:
        versions = store.layer_versions()
    t = Table(title="layer versions (layers without one are as built)")
    for col in ("layer", "version", "effective from", "source", "features", "re-owned", "by"):
        t.add_column(col)
    for v in versions:
        t.add_row(
            v.layer,
            str(v.version),
            f"{v.effective_from:%Y-%m-%d %H:%M}",
            v.source,
            str(v.feature_count),
            str(v.reassigned),
            v.created_by,
        )
    out.print(t)


@main.group("import")
def import_() -> None:
    """Bring cases or a layer version into the store (all or nothing)."""


@import_.command("cases")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--crs", default=None, help="wgs84 (default for CSV), gcj02, bd09 or EPSG:n.")
@click.option("--lon-col", default="lon", show_default=True)
@click.option("--lat-col", default="lat", show_default=True)
@click.option("--wkt-col", default="wkt", show_default=True)
@click.option(
    "--channel",
    type=click.Choice(["hotline", "app", "partner"]),
    default=None,
    help="The file comes from this channel (its cases' source); rows may then give an 'area' (sub-district or "
    "community, name or code) instead of a position: they are placed there and flagged located_by_area.",
)
def import_cases_cmd(
    file: Path, crs: str | None, lon_col: str, lat_col: str, wkt_col: str, channel: str | None
) -> None:
    """Import cases (a 'matter' column; optional source, time, urgency, description) as reported."""
    from dispatch.io import import_cases

    with _clear_errors(), _store() as store:
        n = import_cases(_workflow(store), file, crs, "import", lon_col, lat_col, wkt_col, channel)
    out.print(f"imported {n} cases from {file}")


@import_.command("layer")
@_layer_args
def import_layer_cmd(name: str, file: Path, crs: str | None, repair: bool) -> None:
    """Same as `layers apply`: a new version of layer NAME from FILE."""
    _layer_change(name, file, crs, repair, write=True)


@main.group()
def export() -> None:
    """Write cases or a layer to a file."""


@export.command("cases")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "geojson", "gpkg", "shp", "fgb"]), required=True)
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path))
@click.option("--state", "states", multiple=True, help="Only cases in this state; repeatable.")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the names beside the codes (default: the city's language in city.toml).",
)
def export_cases_cmd(fmt: str, out_path: Path, states: tuple[str, ...], lang: str | None) -> None:
    """All cases (or those in --state): codes with their names, times in the city's time zone, ownership."""
    from dispatch.io import export_cases
    from web.names import case_labels

    with _clear_errors(), _store() as store:
        wf = _workflow(store)
        labels = case_labels(wf.engine.city, lang or _city_language(), wf.calendar.tz)
        cases = store.cases(states=list(states) or None)
        with _atomic(out_path) as tmp:
            n = export_cases(cases, tmp, fmt, labels)
    out.print(f"wrote {n} cases to {out_path}")


def _city_language() -> str:
    from cities.config import load_config

    s = _settings()
    return load_config(s.city, s.data_dir).language


@export.command("layer")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["geojson", "gpkg", "shp", "fgb", "csv"]), required=True)
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path))
def export_layer_cmd(name: str, fmt: str, out_path: Path) -> None:
    """A layer as it is now (the latest stored version, else as built)."""
    from datetime import UTC

    from cities.config import load_config
    from dispatch.io import FORMATS
    from dispatch.layers import current_city
    from dispatch.sheet import write_table
    from geo.errors import InvalidInput
    from geo.ownership import load_city

    s = _settings()
    with _clear_errors(), _store() as store:
        city = current_city(store, load_city(load_config(s.city, s.data_dir).gpkg), datetime.now(UTC))
        if name not in city.layers:
            raise InvalidInput(f"no layer {name!r}; layers: {', '.join(city.layers)}")
        gdf = city.layers[name]
        with _atomic(out_path) as tmp:
            if fmt == "csv":
                write_table(gdf.assign(wkt=gdf.geometry.to_wkt()).drop(columns="geometry"), tmp, "csv")
            else:
                gdf.to_file(tmp, driver=FORMATS[fmt])
    out.print(f"wrote {len(gdf)} features of {name} to {out_path}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@click.option("--demo", is_flag=True, help="Also print the demo accounts' password (for `make demo`).")
def serve_cmd(host: str, port: int, threads: int, demo: bool) -> None:
    """Serve the web app (wall, dispatch console, district review) with waitress, a production WSGI server."""
    import waitress

    from app import create_app
    from web.services import KEY

    with _clear_errors():
        console.print("loading the city and the store …")
        try:
            app = create_app(_settings())
        except ValueError as exc:  # a setting that is not valid (XIUHUA_BASEMAP …)
            raise click.UsageError(str(exc)) from None
        users = app.server.config[KEY].store.list_users()
    by_role: dict[str, list[str]] = {}
    for u in users:
        if u.active:
            by_role.setdefault(u.role, []).append(u.username)
    for role, names in sorted(by_role.items()):
        shown = ", ".join(names[:4]) + (f" … ({len(names)} in all)" if len(names) > 4 else "")
        out.print(f"  {role:<14} {shown}")
    if demo:
        out.print(f"demo accounts' password: {DEMO_PASSWORD} (synthetic demo data only)")
    out.print(f"Xiuhua serving {_settings().database_url} at http://{host}:{port}/ (Ctrl+C stops)")
    waitress.serve(app.server, host=host, port=port, threads=threads, ident="xiuhua", _quiet=True)


@main.group()
def notify() -> None:
    """Webhook notifications: send what is due, list what was given up."""


@notify.command("send")
@click.option("--city", default=None, help="Built city (default XIUHUA_CITY).")
def notify_send(city: str | None) -> None:
    """Escalate cases overdue past XIUHUA_ESCALATE_AFTER_HOURS, then POST the messages due once (for cron)."""
    from datetime import UTC

    from dispatch.notify import sweep, with_outbox
    from dispatch.webhook import send_due

    s = _settings()
    if not s.webhook_url:
        raise UsageProblem("XIUHUA_WEBHOOK_URL is not set: there is nowhere to send notifications")
    with _clear_errors(), _store() as store:
        now = datetime.now(UTC)
        escalated = sweep(with_outbox(_workflow(store, city)), now, s.escalate_after_hours)
        # what the sweep has just queued is due too
        report = send_due(store, s.webhook_url, s.webhook_secret, datetime.now(UTC), s.webhook_attempts)
    out.print(
        f"{len(escalated)} escalated; {report.delivered} delivered, {report.retried} to retry, {report.failed} given up"
    )


@notify.command("failed")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10_000))
def notify_failed(limit: int) -> None:
    """List the messages given up after every attempt (newest first)."""
    with _clear_errors(), _store() as store:
        rows = store.deliveries(failed=True, limit=limit)
    t = Table(title=f"failed deliveries ({len(rows)})")
    for col in ("id", "kind", "case", "created", "attempts", "last error"):
        t.add_column(col)
    for d in rows:
        case = d.payload.get("case") or {}
        t.add_row(str(d.id), d.kind, str(case.get("no", "")), f"{d.created_at:%Y-%m-%d %H:%M}", str(d.attempts),
                  d.last_error)  # fmt: skip
    out.print(t)


def run() -> None:
    """Entry point that never shows a traceback for a user's mistake."""
    try:
        main(standalone_mode=True)
    except KeyboardInterrupt:
        console.print("interrupted; nothing was written")
        sys.exit(130)
    except Exception as exc:  # a bug, not the user's mistake: one line, and the details on request
        if os.environ.get("XIUHUA_DEBUG"):
            raise
        click.secho(f"internal error: {type(exc).__name__}: {exc} (set XIUHUA_DEBUG=1 for details)", err=True, fg="red")
        sys.exit(70)


if __name__ == "__main__":
    run()
