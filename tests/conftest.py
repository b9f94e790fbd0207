"""Shared fixtures: the demo district's divisions and one user per role."""

from __future__ import annotations

pytest_plugins = ["tests.fixtures"]
