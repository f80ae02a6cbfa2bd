"""Case import in bounded memory: rows are stored a chunk at a time, yet all or nothing (both stores)."""

from dataclasses import replace

import pandas as pd
import pytest
import sqlalchemy as sa

from dispatch import io
from dispatch.workflow import owners_of
from geo.errors import InvalidInput
from store.models import Event, NewCase, new_case
from tests.dispatch.conftest import NOW

pytestmark = pytest.mark.slow


def _file(tmp_path, descriptions, matters=None):
    path = tmp_path / "cases.csv"
    n = len(descriptions)
    pd.DataFrame(
        {"matter": matters or ["06010"] * n, "lon": "118.13", "lat": "24.50", "description": descriptions}
    ).to_csv(path, index=False)
    return path


def _batch(engine, descriptions):
    """Reported cases (unnumbered) with one event each, as the import builds them."""
    out = []
    for d in descriptions:
        owners = owners_of(engine.resolve(118.13, 24.50, "06010", NOW), "")
        case = new_case(NewCase("06010", 118.13, 24.50, "hotline", NOW, d), owners, "reported", "t", NOW)
        out.append((case, [Event(0, 0, NOW, "t", "import", None, "reported", "", {}, {})]))
    return out


def test_import_in_chunks_numbers_every_row(wf, store, tmp_path, monkeypatch):
    monkeypatch.setattr(io, "CHUNK", 2)
    assert io.import_cases(wf, _file(tmp_path, list("abcde")), None, "importer") == 5
    cases = sorted(store.cases(), key=lambda c: c.case_no)
    assert [c.description for c in cases] == list("abcde")
    assert [int(c.case_no[-5:]) for c in cases] == [1, 2, 3, 4, 5]  # one counter across the chunks
    assert [store.events(c.id)[0].after["row"] for c in cases] == [2, 3, 4, 5, 6]


def test_failure_in_a_late_chunk_stores_nothing(wf, store, tmp_path, monkeypatch):
    monkeypatch.setattr(io, "CHUNK", 2)
    built = []

    def failing(new, *args, **kwargs):
        if new.description == "e":  # row 6, in the third chunk: the first two are in the store by now
            raise RuntimeError("disk full")
        built.append(new.description)
        return new_case(new, *args, **kwargs)

    monkeypatch.setattr(io, "new_case", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        io.import_cases(wf, _file(tmp_path, list("abcde")), None, "importer")
    assert built == list("abcd") and store.cases() == []


def test_a_bad_row_in_the_last_chunk_is_found_before_any_is_stored(wf, store, tmp_path, monkeypatch):
    monkeypatch.setattr(io, "CHUNK", 2)
    path = _file(tmp_path, list("abcde"), ["06010"] * 4 + ["12345"])
    with pytest.raises(InvalidInput, match="unknown matter codes at rows 6"):
        io.import_cases(wf, path, None, "importer")
    assert store.cases() == []


def test_store_rolls_back_every_batch(store, engine):
    # the third batch breaks a NOT NULL constraint inside the database, after two batches went in
    bad = [(replace(case, state=None), events) for case, events in _batch(engine, ["x"])]
    with pytest.raises(sa.exc.IntegrityError):
        store.insert_history_batches(iter([_batch(engine, ["a", "b"]), _batch(engine, ["c"]), bad]))
    assert store.cases() == []

    def broken():
        yield _batch(engine, ["a", "b"])
        raise RuntimeError("the source went away")

    with pytest.raises(RuntimeError):
        store.insert_history_batches(broken())
    assert store.cases() == []
    # the case-number counter was rolled back too: the next case is number 1
    assert store.insert_history_batches(iter([_batch(engine, ["ok"])])) == 1
    assert int(store.cases()[0].case_no[-5:]) == 1
