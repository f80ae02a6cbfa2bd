"""One message catalogue (messages.toml) for every label, in Chinese and English; the language is per browser."""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import flask

LANGUAGES = ("zh", "en")
COOKIE = "xiuhua_lang"
CATALOGUE = Path(__file__).with_name("messages.toml")


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """key -> {language: text}; every key has every language (a test checks)."""
    raw: dict[str, Any] = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict) and not set(v) <= set(LANGUAGES):
                walk(key, v)
            else:
                flat[key] = v

    walk("", raw)
    return flat


def language() -> str:
    """The current request's language: the one a route chose for it (the Open311 API's `lang` or
    Accept-Language), the browser's choice (cookie), else the city's default."""
    default = flask.current_app.config.get("XIUHUA_LANGUAGE", "en") if flask.has_app_context() else "en"
    if not flask.has_request_context():
        return str(default)
    forced = flask.g.get("xiuhua_lang")
    if forced in LANGUAGES:
        return str(forced)
    chosen = flask.request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else str(default)


def t(key: str, lang: str | None = None, **values: Any) -> str:
    """The text for `key` in the current (or given) language, with {placeholders} filled."""
    entry = catalogue().get(key)
    if entry is None:
        raise KeyError(f"no message {key!r} in {CATALOGUE.name}")
    text = entry[lang or language()]
    return text.format(**values) if values else text


def has(key: str) -> bool:
    return key in catalogue()


def error_text(exc: Exception) -> str:
    """An error in the user's language, from its code and parameters (errors without a known code: as raised).
    Names are looked up (role, state, action, field) and times are shown in the city's time zone."""
    code = getattr(exc, "code", "")
    key = f"error.{code}"
    if not code or not has(key):
        return str(exc)
    params = {k: v for k, v in getattr(exc, "params", {}).items() if k != "what"}
    for name, prefix in (("role", "role"), ("state", "state"), ("action", "action"), ("field", "field")):
        value = params.get(name)
        label = f"{prefix}.{value}"
        params[f"{name}_name"] = t(label) if value is not None and has(label) else value
        if name == "role" and has(label):
            params["role"] = t(label)
    when = params.get("when")
    if isinstance(when, datetime):
        tz = flask.current_app.config.get("XIUHUA_TZ") if flask.has_app_context() else None
        params["when"] = f"{when.astimezone(tz) if tz else when:%Y-%m-%d %H:%M:%S}"
    try:
        return t(key, **params)
    except (KeyError, IndexError):
        return str(exc)
