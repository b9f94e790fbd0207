"""Bulk inserts for large imports: rows in, primary keys back, history written alongside.

Measured on a 100,000-person import (benchmarks/bench_import.py): Django's ``bulk_create``
spent most of its time preparing each value through the field API (2.8 M calls), and
``simple_history``'s bulk history another 41 %. Here each column's converter is chosen
once, rows go in as multi-row ``INSERT … RETURNING`` (PostgreSQL, SQLite ≥ 3.35), and the
database copies the new rows into the history table with ``INSERT … SELECT``, stamping the
same user, reason, type "+" and time as the library would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import DateField, DateTimeField, Field, JSONField, Model
from django.utils import timezone

M = TypeVar("M", bound=Model)
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


def _converter(field: Field[Any, Any]) -> Callable[[Any], Any]:
    ops = connection.ops
    if isinstance(field, DateTimeField):
        return lambda v: None if v is None else ops.adapt_datetimefield_value(v)
    if isinstance(field, DateField):
        return lambda v: None if v is None else ops.adapt_datefield_value(v)
    if isinstance(field, JSONField):
        return lambda v: field.get_db_prep_save(v, connection)
    # text, integers, booleans, foreign keys, Decimal (quantized by the services): as they are
    return lambda v: v


def bulk_insert(model: type[M], objs: list[M], *, batch_size: int = 2000) -> list[M]:
    """Insert ``objs`` and set their primary keys; no signals, no ``save()``.

    On PostgreSQL, Django 5.2's own ``bulk_create`` already sends each column as one array
    (``INSERT … SELECT * FROM UNNEST(…)``) and measured faster than multi-row ``VALUES``
    (59 s against 77–81 s for the 100,000-person import), so it is used there.
    """
    if not objs:
        return objs
    if connection.vendor == "postgresql":
        return model._default_manager.bulk_create(objs, batch_size=batch_size)
    q = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                f.pre_save(obj, add=True)
    convert = [(f.attname, _converter(f)) for f in fields]
    pk = model._meta.pk
    assert pk is not None
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    max_params = connection.features.max_query_params or 65_535
    per_statement = max(1, min(batch_size, max_params // len(fields)))
    head = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) VALUES "
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params = [conv(getattr(obj, name)) for obj in chunk for name, conv in convert]
            cursor.execute(
                head + ", ".join([row_sql] * len(chunk)) + f" RETURNING {q(pk.column)}", params
            )
            for obj, (key,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = key
                obj._state.adding = False
                obj._state.db = connection.alias
    return objs
