"""Schema migrations with Alembic, for both backends; `xiuhua db upgrade` runs them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from store.errors import SchemaOutOfDate

HERE = Path(__file__).resolve().parent


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    return cfg


def head() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the database to `revision`; returns (before, after)."""
    before = current(engine)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return before, current(engine) or ""


def check(engine: Engine) -> None:
    have, want = current(engine), head()
    if have != want:
        raise SchemaOutOfDate(
            f"the database at {engine.url.render_as_string(hide_password=True)} is at schema revision "
            f"{have or 'none (empty)'}, this code needs {want}: run `xiuhua db upgrade`"
        )
