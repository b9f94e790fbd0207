"""The ``moment`` filter: how every eldercare page shows a time."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template import Context, Template


def _shown(value: object) -> str:
    return Template("{% load moments %}{{ v|moment }}").render(Context({"v": value}))


def test_iso_text_and_datetimes_show_to_the_minute_in_beijing_time() -> None:
    assert _shown("2026-11-23T10:00:59+08:00") == "2026-11-23 10:00"
    # 02:30 UTC is 10:30 in Beijing; half past midnight in Beijing is the day before in UTC
    assert _shown(datetime(2026, 11, 23, 2, 30, tzinfo=UTC)) == "2026-11-23 10:30"
    assert _shown("2026-11-22T16:30:00+00:00") == "2026-11-23 00:30"
    assert _shown(None) == "—" and _shown("") == "—"
    assert _shown("not a time") == "not a time"
