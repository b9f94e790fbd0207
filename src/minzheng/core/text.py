"""Free text from users: refused when it holds control characters.

PostgreSQL cannot store or compare NUL, and no registry text has a reason to hold
control codes, so they are refused at every entry point with one code.
"""

from __future__ import annotations

import re

from minzheng.core.errors import ApplicationError

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CODE = "text.control_characters"
MESSAGE = "不能包含控制字符"


def has_control_characters(value: str) -> bool:
    return bool(CONTROL_CHARACTERS.search(value))


def clean_query_text(value: str | None, field: str) -> str | None:
    """A search parameter, stripped; raises a 422 naming ``field`` if it holds control codes."""
    if value is None:
        return None
    if has_control_characters(value):
        raise ApplicationError(CODE, MESSAGE, {"field": field}, status=422)
    return value.strip()
