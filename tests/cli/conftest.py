"""Fixtures shared by the CLI tests."""

import pytest


@pytest.fixture
def env(store, city_data_dir, tmp_path, monkeypatch):
    """The CLI on the test's store (embedded or PostGIS) and the session's city."""
    monkeypatch.setenv("XIUHUA_DATA_DIR", str(city_data_dir))
    monkeypatch.setenv("XIUHUA_DATABASE_URL", store.url)
    monkeypatch.setenv("XIUHUA_VAR_DIR", str(tmp_path / "var"))
    return store
