"""Conventions as checks whose failure says what to do."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

SRC = Path(__file__).resolve().parents[2] / "src" / "minzheng"


def test_views_and_apis_never_query_models_directly() -> None:
    """Views and API routers read through selectors (which start from accounts.access)."""
    offenders = []
    for path in [*SRC.glob("*/views.py"), *SRC.glob("*/api.py")]:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\b[A-Z]\w*\.objects\b", line):
                offenders.append(f"{path.relative_to(SRC)}:{lineno}")
    assert not offenders, f"query through a selector/access function instead: {offenders}"


def test_only_config_env_reads_the_environment() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "os.environ" in p.read_text(encoding="utf-8")
        and p.relative_to(SRC).as_posix() not in {"config/env.py", "config/wsgi.py", "cli.py"}
    ]
    assert not offenders, f"read settings in config/env.py: {offenders}"


def test_policy_divisions_are_complete() -> None:
    data = yaml.safe_load((SRC / "policy" / "divisions.yaml").read_text(encoding="utf-8"))
    assert len(data["districts"]) == 16
    assert len(data["xicheng_streets"]) == 15
    assert all(str(code).startswith("110102") for code in data["xicheng_streets"])
