"""The one bridge between the registry and the rules engine.

- :func:`evaluate_documents`: validate household documents (API, CLI) and evaluate them;
- :func:`registry_frames`: a snapshot of the registry (scoped) as engine tables;
- :func:`evaluation_run_create` / :func:`evaluation_run_execute`: evaluate the whole
  registry as of a date, with progress, storing what each household may qualify for;
- :func:`simulate`: what-if: changed parameters against the baseline, per division.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import yaml
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from pydantic import ValidationError

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.core.errors import ApplicationError, ValidationFailed
from minzheng.programmes.frames import frames_from_flat
from minzheng.programmes.models import EligibilityResult, EvaluationRun, RunStatus
from minzheng.registry.documents import HouseholdDoc, errors_from_pydantic
from minzheng.registry.models import Division, Household, Income, MedicalBill, Person
from minzheng.registry.vocab import PersonState
from minzheng.rules.evaluate import Evaluator, batch_to_strings, default_evaluator
from minzheng.rules.frames import (
    HOUSEHOLD_DEFAULTS,
    HOUSEHOLD_SCHEMA,
    INCOME_TYPES,
    PERSON_SCHEMA,
    STATUSES,
    complete,
)
from minzheng.rules.parameters import ParameterError, ParameterSet
from minzheng.rules.programmes import UnknownProgramme

log = logging.getLogger("minzheng.programmes")
MAX_DOCUMENTS = 10_000


@dataclass
class Evaluation:
    results: list[dict[str, Any]]
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _member_of(error_field: str, raw: Any) -> str | None:
    parts = error_field.split(".")
    if len(parts) >= 2 and parts[0] == "members" and parts[1].isdigit():
        k = int(parts[1])
        members = raw.get("members") if isinstance(raw, dict) else None
        if isinstance(members, list) and k < len(members) and isinstance(members[k], dict):
            return str(members[k].get("id") or f"#{k + 1}")
        return f"#{k + 1}"
    return None


def documents_validate(raws: Sequence[Any]) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:  # fmt: skip
    """Valid documents (with their 1-based place) and, for each invalid one, its errors
    naming household, member and field."""
    valid: list[tuple[int, dict[str, Any]]] = []
    invalid: list[dict[str, Any]] = []
    for index, raw in enumerate(raws, start=1):
        household = str(raw.get("id") or f"#{index}") if isinstance(raw, dict) else f"#{index}"
        try:
            doc = HouseholdDoc.model_validate(raw)
        except ValidationError as exc:
            errors = [
                {**e, "member": _member_of(e["field"], raw)} for e in errors_from_pydantic(exc)
            ]
            invalid.append({"household": household, "index": index, "errors": errors})
            continue
        valid.append((index, doc.model_dump(mode="json")))
    return valid, invalid


def parameters_for(overrides: dict[str, Any] | None = None, as_of: date | None = None) -> ParameterSet:  # fmt: skip
    params = default_evaluator().parameters
    if not overrides:
        return params
    try:
        return params.with_overrides(overrides, as_of)
    except ParameterError as exc:
        raise ApplicationError(exc.code, str(exc), status=422) from None


def _engine_errors(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except UnknownProgramme as exc:
        raise ApplicationError(exc.code, str(exc), status=422) from None
    except ParameterError as exc:
        raise ApplicationError(exc.code, str(exc), status=422) from None


def evaluate_documents(
    raws: Sequence[Any],
    *,
    as_of: date | None = None,
    programmes: Sequence[str] | None = None,
    explain: bool = False,
    skip_invalid: bool = False,
) -> Evaluation:
    """Validate every document, then evaluate; with any invalid one, nothing is evaluated
    unless ``skip_invalid`` (the skipped ones are then listed)."""
    if len(raws) > MAX_DOCUMENTS:
        raise ApplicationError(
            "evaluation.too_many",
            f"一次最多评估 {MAX_DOCUMENTS} 户；更多请用 minzheng evaluate 与 .parquet 文件",
            status=422,
        )
    valid, invalid = documents_validate(raws)
    if invalid and not skip_invalid:
        raise ValidationFailed(
            [
                {"household": bad["household"], "index": bad["index"], **e}
                for bad in invalid
                for e in bad["errors"]
            ],
            message=f"{len(invalid)} 户数据校验未通过，未评估任何一户",
        )
    when = as_of or timezone.localdate()
    docs = [d if d.get("id") else {**d, "id": f"#{i}"} for i, d in valid]
    evaluator = default_evaluator()
    results = _engine_errors(
        lambda: (
            evaluator.results(docs, when, programme_ids=programmes, explain=explain)
            if docs
            else _check_only(evaluator, when, programmes)
        )
    )
    return Evaluation(results=results, skipped=invalid)


def evaluate_flat(
    frame: pl.DataFrame,
    *,
    as_of: date,
    programmes: Sequence[str] | None = None,
    explain: bool = False,
    table: bool = True,
) -> Any:
    """Evaluate the flat Parquet layout (docs/subsystems/rules.md): a long table of money
    strings (``table``, vectorised, for bulk) or result documents. Any problem in the file
    rejects it whole, naming row, household, member and column."""
    (h, p), problems = frames_from_flat(frame)
    if problems:
        raise ValidationFailed(problems, message=f"文件有 {len(problems)} 处问题，未评估任何一户")
    evaluator = default_evaluator()
    if table:
        return _engine_errors(
            lambda: batch_to_strings(evaluator.batch(h, p, as_of, programmes).collect().to_native())
        )
    return _engine_errors(lambda: evaluator.results_for_frames(h, p, as_of, programmes, explain))


def _check_only(evaluator: Evaluator, when: date, programmes: Sequence[str] | None) -> list[Any]:
    evaluator.catalogue.select(programmes)
    evaluator.parameters.value("dibao.standard", when)
    return []


# -- the registry as engine tables -----------------------------------------------------


def registry_frames(
    actor: User | None, as_of: date, division: str | None = None, household_ids: Iterable[int] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """Households (key: the household's database id as text) and active members in the
    actor's jurisdiction (everything for ``actor=None``, the system), with incomes in force
    on ``as_of``."""
    households = access.households_visible(actor) if actor is not None else Household.objects.all()
    if division:
        households = households.filter(division__path__startswith=_division_path(division))
    if household_ids is not None:
        households = households.filter(pk__in=list(household_ids))
    h_rows = list(
        households.values_list(
            "pk", "division__code", "hukou", "deposits", "securities", "vehicles", "houses",
            "business", "medical_monthly", "education_monthly",
        )
    )  # fmt: skip
    h = pl.DataFrame(
        h_rows,
        schema={
            "household": pl.Int64, "division": pl.Utf8, "hukou": pl.Utf8, "deposits": pl.Float64,
            "securities": pl.Float64, "vehicles": pl.Int64, "houses": pl.Int64,
            "business": pl.Boolean, "medical_monthly": pl.Float64,
            "education_monthly": pl.Float64,
        },
        orient="row",
    )  # fmt: skip
    ids = h.get_column("household").to_list()
    bills = pl.DataFrame(
        list(
            MedicalBill.objects.filter(household_id__in=ids).values_list(
                "household_id", "kind", "total", "insurance_paid"
            )
        ),
        schema={"household": pl.Int64, "kind": pl.Utf8, "total": pl.Float64, "paid": pl.Float64},
        orient="row",
    )
    for kind in ("outpatient", "inpatient"):
        sums = (
            bills.filter(pl.col("kind") == kind)
            .group_by("household")
            .agg(
                pl.col("total").sum().alias(f"{kind}_total"),
                pl.col("paid").sum().alias(f"{kind}_insurance_paid"),
            )
        )
        h = h.join(sums, on="household", how="left", maintain_order="left")
    h = h.with_columns(
        pl.col(c).fill_null(HOUSEHOLD_DEFAULTS[c])
        for c in h.columns
        if c in HOUSEHOLD_DEFAULTS and c not in ("vehicles", "houses", "business")
    )
    person_rows = list(
        Person.objects.filter(household_id__in=ids, state=PersonState.ACTIVE).values_list(
            "pk", "household_id", "birth_date", "sex", "relation", "disability_kind",
            "disability_grade", "schooling", "statuses",
        )
    )  # fmt: skip
    p = pl.DataFrame(
        person_rows,
        schema={
            "person": pl.Int64, "household": pl.Int64, "birth_date": pl.Date, "sex": pl.Utf8,
            "relation": pl.Utf8, "disability_kind": pl.Utf8, "disability_grade": pl.Int64,
            "schooling": pl.Utf8, "statuses": pl.List(pl.Utf8),
        },
        orient="row",
    )  # fmt: skip
    month = as_of.replace(day=1)
    incomes = pl.DataFrame(
        list(
            Income.objects.filter(person__household_id__in=ids).values_list(
                "person_id", "type", "month", "monthly"
            )
        ),
        schema={"person": pl.Int64, "type": pl.Utf8, "month": pl.Date, "yuan": pl.Float64},
        orient="row",
    )
    # the latest month on or before the as-of month; when all are later, the earliest
    # (the same reading as rules.frames.incomes_in_force)
    later = pl.col("month") > month
    latest = (
        incomes.sort([later, pl.when(later).then(pl.col("month")).otherwise(None),
                      pl.col("month")], descending=[False, False, True], nulls_last=False)
        .group_by("person", "type")
        .agg(pl.col("yuan").first())
        .pivot(on="type", index="person", values="yuan")
    )  # fmt: skip
    latest = latest.rename({c: f"income_{c}" for c in latest.columns if c != "person"})
    p = p.join(latest, on="person", how="left", maintain_order="left").with_columns(
        pl.col("person").cast(pl.Utf8).alias("member"),
        pl.col("disability_kind").fill_null(""),
        pl.col("disability_grade").fill_null(0),
        pl.col("schooling").fill_null(""),
        *(pl.col("statuses").list.contains(s).fill_null(False).alias(f"status_{s}")
          for s in STATUSES),
    )  # fmt: skip
    p = p.with_columns(
        pl.col(f"income_{t}").fill_null(0.0) for t in INCOME_TYPES if f"income_{t}" in p.columns
    )
    h = h.with_columns(pl.col("household").cast(pl.Utf8))
    p = p.with_columns(pl.col("household").cast(pl.Utf8))
    h, p = complete(
        h.select(c for c in HOUSEHOLD_SCHEMA if c in h.columns),
        p.select(c for c in PERSON_SCHEMA if c in p.columns),
    )
    return h, p


def _division_path(code: str) -> str:
    found = Division.objects.filter(code=code).values_list("path", flat=True).first()
    if found is None:
        raise ApplicationError("division.unknown", f"区划代码不存在：{code}", status=422)
    return str(found)


# -- evaluating the whole registry ------------------------------------------------------


STALE_AFTER = timedelta(minutes=10)
MEMBER_KEY = re.compile(r"成员 (\d+)")


def evaluation_runs_sweep(now: datetime | None = None) -> int:
    """Mark as failed the runs that stopped reporting progress (the process running them
    was restarted or killed): pending or running with no progress for ``STALE_AFTER``."""
    now = now or timezone.now()
    cutoff = now - STALE_AFTER
    stale = EvaluationRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).filter(
        Q(heartbeat__lt=cutoff) | Q(heartbeat__isnull=True, created_at__lt=cutoff)
    )
    return stale.update(
        status=RunStatus.FAILED,
        error="评估中断：超过10分钟没有进展（服务可能已重启），请重新发起",
        finished_at=now,
    )


def evaluation_run_create(actor: User | None, *, as_of: date, division: str | None = None) -> EvaluationRun:  # fmt: skip
    if actor is not None:
        access.ensure_can_write(actor)
    div = None
    if division and actor is not None:
        div = access.access_division_by_code(actor, division)
    elif division:
        div = Division.objects.filter(code=division).first()
        if div is None:
            raise ApplicationError("division.unknown", f"区划代码不存在：{division}", status=422)
    _engine_errors(lambda: default_evaluator().parameters.value("dibao.standard", as_of))
    return EvaluationRun.objects.create(as_of=as_of, division=div, created_by=actor)


def evaluation_run_execute(
    run_id: int, *, chunk: int = 5_000, on_progress: Callable[[int, int], None] | None = None
) -> EvaluationRun:
    """Evaluate every household of the run's scope; results replace nothing (each run keeps
    its own). Progress is saved after each chunk so a page can show it."""
    run = EvaluationRun.objects.get(pk=run_id)
    actor = run.created_by
    scope = access.households_visible(actor) if actor is not None else Household.objects.all()
    if run.division is not None:
        scope = scope.filter(division__path__startswith=run.division.path)
    ids = list(scope.order_by("pk").values_list("pk", flat=True))
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, total=len(ids), done=0, heartbeat=timezone.now()
    )
    evaluator = default_evaluator()
    eligible_households = 0
    try:
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            h, p = registry_frames(None, run.as_of, household_ids=part)
            table = evaluator.batch(h, p, run.as_of).collect().to_native()
            flags = [c for c in table.columns if c.endswith("__eligible")]
            hits = table.filter(pl.any_horizontal(flags)).get_column("household").to_list()
            rows: list[EligibilityResult] = []
            if hits:
                hit_h = h.filter(pl.col("household").is_in(hits))
                hit_p = p.filter(pl.col("household").is_in(hits))
                for result in evaluator.results_for_frames(hit_h, hit_p, run.as_of):
                    for pid, r in result["programmes"].items():
                        if r["eligible"]:
                            rows.append(
                                EligibilityResult(
                                    run_id=run.pk, household_id=int(result["household"]),
                                    programme=pid, amount=r["amount"], unit=r["unit"],
                                    reasons=r["reasons"],
                                )
                            )  # fmt: skip
            with transaction.atomic():
                EligibilityResult.objects.bulk_create(rows, batch_size=2_000)
                eligible_households += len(hits)
                EvaluationRun.objects.filter(pk=run.pk).update(
                    done=start + len(part),
                    eligible_households=eligible_households,
                    heartbeat=timezone.now(),
                )
            if on_progress is not None:
                on_progress(start + len(part), len(ids))
    except Exception as exc:
        log.exception("evaluation run %s failed", run.pk)
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
        raise
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


# -- proactive discovery: who qualifies, vectorised -------------------------------------------


def eligible_pairs(households: pl.DataFrame, persons: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per (household, programme) the engine finds eligible: ``household``
    (Int64), ``programme``, ``amount`` (money text, "1012.50") and ``unit``, from one
    vectorised batch over the frames (no per-household Python)."""
    evaluator = default_evaluator()
    table = batch_to_strings(evaluator.batch(households, persons, as_of).collect().to_native())
    units = {p.id: p.unit for p in evaluator.catalogue.select(None)}
    parts = [
        table.filter(pl.col(f"{pid}__eligible")).select(
            pl.col("household").cast(pl.Int64),
            pl.lit(pid).alias("programme"),
            pl.col(f"{pid}__amount").alias("amount"),
            pl.lit(unit).alias("unit"),
        )
        for pid, unit in units.items()
    ]
    return pl.concat(parts) if parts else pl.DataFrame(
        schema={"household": pl.Int64, "programme": pl.Utf8, "amount": pl.Utf8, "unit": pl.Utf8}
    )  # fmt: skip


def reasons_from_frames(households: pl.DataFrame, persons: pl.DataFrame, as_of: date) -> dict[tuple[int, str], list[str]]:  # fmt: skip
    """The engine's reasons (Chinese, as on the household page) for each eligible
    programme of the households in the frames (keys: the household as an integer)."""
    out: dict[tuple[int, str], list[str]] = {}
    for result in default_evaluator().results_for_frames(households, persons, as_of):
        for pid, r in result["programmes"].items():
            if r["eligible"]:
                out[(int(result["household"]), pid)] = list(r["reasons"])
    return out


def _with_names(text: str, names: dict[int, str]) -> str:
    return MEMBER_KEY.sub(lambda m: f"成员 {names.get(int(m[1]), m[1])}", text)


def reasons_for(household_ids: Sequence[int], as_of: date) -> dict[tuple[int, str], list[str]]:
    """:func:`reasons_from_frames` for registry households: what a worker reads on a
    discovery item."""
    out: dict[tuple[int, str], list[str]] = {}
    for start in range(0, len(household_ids), 5_000):
        part = household_ids[start : start + 5_000]
        h, p = registry_frames(None, as_of, household_ids=part)
        names = dict(Person.objects.filter(household_id__in=part).values_list("pk", "name"))
        for key, reasons in reasons_from_frames(h, p, as_of).items():
            # the engine names members by their key (the database id): a worker reads names
            out[key] = [_with_names(r, names) for r in reasons]
    return out


# -- what-if ------------------------------------------------------------------------------


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["dibao.standard=1500"]`` → ``{"dibao.standard": 1500}`` (values read as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ApplicationError(
                "simulation.override_format", f"参数修改应写成 名称=取值：{item!r}", status=422
            )
        try:
            out[name.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ApplicationError(
                "simulation.override_value", f"参数 {name} 的取值无法读取：{raw!r}", status=422
            ) from None
    return out


def simulate_frames(
    h: pl.DataFrame, p: pl.DataFrame, *, as_of: date, overrides: dict[str, Any],
    level: int = 9,
) -> dict[str, Any]:  # fmt: skip
    """Baseline and reform over the same tables: per programme and division (the first
    ``level`` digits of the household's division code), beneficiaries and monthly cost,
    and households gaining and losing."""
    evaluator = default_evaluator()
    reform_params = parameters_for(overrides, as_of)
    base = _engine_errors(lambda: evaluator.batch(h, p, as_of).collect().to_native())
    reform = _engine_errors(
        lambda: evaluator.batch(h, p, as_of, parameters=reform_params).collect().to_native()
    )
    divisions = h.select("household", pl.col("division").str.slice(0, level).alias("area"))
    both = base.join(reform, on="household", suffix="__reform").join(divisions, on="household")
    rows = []
    for prog in evaluator.catalogue:
        e, a = f"{prog.id}__eligible", f"{prog.id}__amount"
        grouped = (
            both.group_by("area")
            .agg(
                pl.col(e).sum().alias("base_beneficiaries"),
                pl.col(f"{e}__reform").sum().alias("reform_beneficiaries"),
                pl.col(a).sum().round(2).alias("base_cost"),
                pl.col(f"{a}__reform").sum().round(2).alias("reform_cost"),
                (pl.col(f"{a}__reform") > pl.col(a) + 0.004).sum().alias("gaining"),
                (pl.col(f"{a}__reform") < pl.col(a) - 0.004).sum().alias("losing"),
                (pl.col(f"{e}__reform") & ~pl.col(e)).sum().alias("newly_eligible"),
                (pl.col(e) & ~pl.col(f"{e}__reform")).sum().alias("no_longer_eligible"),
            )
            .sort("area")
        )
        for r in grouped.to_dicts():
            rows.append({"programme": prog.id, "label": prog.label, "unit": prog.unit, **r})
    totals: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = totals.setdefault(
            r["programme"],
            {"programme": r["programme"], "label": r["label"], "unit": r["unit"],
             **dict.fromkeys(("base_beneficiaries", "reform_beneficiaries", "gaining", "losing",
                              "newly_eligible", "no_longer_eligible"), 0),
             "base_cost": 0.0, "reform_cost": 0.0},
        )  # fmt: skip
        for k in ("base_beneficiaries", "reform_beneficiaries", "gaining", "losing",
                  "newly_eligible", "no_longer_eligible", "base_cost", "reform_cost"):  # fmt: skip
            t[k] += r[k]
    for t in totals.values():
        t["base_cost"] = f"{t['base_cost']:.2f}"
        t["reform_cost"] = f"{t['reform_cost']:.2f}"
    for r in rows:
        r["base_cost"] = f"{r['base_cost']:.2f}"
        r["reform_cost"] = f"{r['reform_cost']:.2f}"
    return {
        "as_of": as_of.isoformat(),
        "overrides": overrides,
        "households": h.height,
        "programmes": list(totals.values()),
        "by_division": rows,
    }


def simulate(
    actor: User | None, *, overrides: dict[str, Any], as_of: date, division: str | None = None,
    level: int = 9,
) -> dict[str, Any]:  # fmt: skip
    """What-if over the registry in the actor's jurisdiction."""
    if actor is not None:
        access.ensure_registry_reader(actor)
    if not overrides:
        raise ApplicationError("simulation.no_change", "请至少修改一个参数", status=422)
    parameters_for(overrides, as_of)
    if actor is not None and division:
        access.access_division_by_code(actor, division)
    h, p = registry_frames(actor, as_of, division=division)
    return simulate_frames(h, p, as_of=as_of, overrides=overrides, level=level)
