"""Every error the workflow, the store and the access policy give a user has a code that the catalogue says in
both languages; nothing English reaches a Chinese screen, and times are the city's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.errors import Invalid, changed_by
from web.i18n import error_text, has

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"""code=["']([a-z_]+\.[a-z_]+)["']""")


def raised_codes() -> set[str]:
    found = set()
    for folder in ("dispatch", "store", "web"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(CODE.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_error_code_is_in_the_catalogue():
    codes = raised_codes()
    assert {"policy.role", "dispatch.unit", "action.state", "conflict.changed_by", "calendar.outside"} <= codes
    missing = sorted(c for c in codes if not has(f"error.{c}"))
    assert missing == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_errors_read_in_the_users_language(app, lang):
    when = datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)  # 09:02:03 in Xiamen
    errors = [
        changed_by("A0603620261126", "disp2", when),
        Invalid("request_void needs a reason", code="action.needs_reason", action="request_void"),
        Invalid("x", code="action.state", action="dispatch", case_no="A1", state="reported"),
        Invalid("x", code="text.too_long", field="reason", limit=1000, length=20_000_000),
    ]
    with app.server.test_request_context(headers={"Cookie": f"xiuhua_lang={lang}"}):
        texts = [error_text(e) for e in errors]
    assert "09:02:03" in texts[0] and "01:02:03" not in texts[0]
    if lang == "zh":
        for text in texts:  # no English sentence: at most codes, numbers and names
            assert not re.search(r"[A-Za-z]{4,} [A-Za-z]{3,}", text), text
        assert texts[1] == "“申请作废”需要填写理由" and "已上报" in texts[2] and "1000" in texts[3]
    else:
        assert texts[0].endswith("reload it and try again") and texts[1] == "“ask to void” needs a reason"
        assert "Case A1 is reported" in texts[2] and "at most 1000 characters" in texts[3]
