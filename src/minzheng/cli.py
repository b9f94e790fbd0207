"""The ``minzheng`` command: each command parses, calls one service, prints.

Exit codes: 0 success, 1 input rejected (nothing written), 2 usage error.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(
    help="民政一口式服务平台命令行 / Minzheng civil-affairs platform command line",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="导入数据 / Import data", no_args_is_help=True)
export_app = typer.Typer(help="导出数据 / Export data", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
payroll_app = typer.Typer(help="救助资金发放 / Benefit payrolls", no_args_is_help=True)
app.add_typer(payroll_app, name="payroll")
err = Console(stderr=True)


class Format(StrEnum):
    text = "text"
    json = "json"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minzheng.config.settings")
    import django

    django.setup()


def _emit(fmt: Format, payload: dict[str, Any], text: str) -> None:
    if fmt == Format.json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    else:
        typer.echo(text)


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
    )


@app.command()
def migrate() -> None:
    """创建或升级数据库 / Create or upgrade the database."""
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


@app.command()
def demo(
    households: Annotated[int, typer.Option(help="家庭数 / number of households", min=1)] = 20_000,
    seed: Annotated[int, typer.Option(help="随机种子 / seed (deterministic)")] = 0,
    output: Annotated[
        Path | None,
        typer.Option(help="只写家庭文档到 .jsonl/.parquet，不写数据库 / write documents only"),
    ] = None,
    users: Annotated[bool, typer.Option(help="同时创建演示用户 / also create demo users")] = True,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """加载合成的演示城区 / Load the synthetic demo district (once)."""
    if output is not None:
        from minzheng.demo.generator import write_documents

        if output.suffix.lower() not in {".jsonl", ".parquet"}:
            err.print("输出文件须为 .jsonl 或 .parquet / output must be .jsonl or .parquet")
            raise typer.Exit(2)
        n = write_documents(output, households, seed)
        _emit(
            fmt,
            {"ok": True, "households": n, "output": str(output)},
            f"已写入 {n} 户家庭文档：{output}",
        )
        return
    _setup()
    from minzheng.demo.services import DEMO_PASSWORD, demo_load, demo_users

    with _progress() as bar:
        task = bar.add_task("加载演示数据", total=households)
        added = demo_load(
            households, seed, progress=lambda done, total: bar.update(task, completed=done)
        )
    logins = demo_users(seed) if users else []
    cases = entitlements = 0
    if logins:
        from minzheng.demo.applications import demo_applications
        from minzheng.demo.services import demo_community

        cases = demo_applications(demo_community(seed))
        if cases:
            from minzheng.demo.applications import demo_feeds

            demo_feeds(demo_community(seed))
        from minzheng.demo.benefits import demo_benefits

        entitlements = demo_benefits()
        from minzheng.demo.casework import demo_casework

        demo_casework(demo_community(seed))
        from minzheng.demo.eldercare import demo_eldercare

        demo_eldercare(demo_community(seed))
    payload = {
        "ok": True,
        "households_added": added,
        "applications_added": cases,
        "entitlements_added": entitlements,
        "users": [
            {"username": u.username, "role": u.role, "password": DEMO_PASSWORD} for u in logins
        ],
    }
    lines = [f"新增演示家庭 {added} 户" if added else "演示数据已存在，未重复加载"]
    if cases:
        lines.append(f"新增演示申请 {cases} 件（各办理环节均有）")
    if entitlements:
        lines.append(f"新增救助待遇 {entitlements} 项，已发放两个月，本月发放待复核审批")
    if logins:
        lines.append(f"演示账户（密码均为 {DEMO_PASSWORD}）：")
        lines += [f"  {u.username:10s} {u.role:20s} {u.division}" for u in logins]
    _emit(fmt, payload, "\n".join(lines))


@app.command()
def createuser(
    name: Annotated[str, typer.Argument(help="用户名 / username")],
    role: Annotated[str, typer.Option(help="角色 / role")],
    division: Annotated[str, typer.Option(help="区划代码 / division code")],
    department: Annotated[str, typer.Option(help="委办局 / department (liaisons)")] = "",
    password: Annotated[str | None, typer.Option(help="密码 / password")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """创建工作人员账户 / Create a staff user."""
    _setup()
    from minzheng.accounts.services import user_create
    from minzheng.core.errors import ApplicationError

    try:
        user = user_create(
            username=name,
            role=role,
            division_code=division,
            password=password,
            department=department,
        )
    except ApplicationError as exc:
        _reject(fmt, exc)
    _emit(
        fmt,
        {"ok": True, "username": user.username, "role": user.role, "division": division},
        f"已创建用户 {user.username}（{user.get_role_display()}，{division}）",
    )


@app.command()
def token(
    name: Annotated[str, typer.Argument(help="用户名 / username")],
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """为用户签发新的接口令牌 / Print a new API token for the user."""
    _setup()
    from minzheng.accounts.services import token_create
    from minzheng.core.errors import ApplicationError

    try:
        value = token_create(username=name)
    except ApplicationError as exc:
        _reject(fmt, exc)
    _emit(fmt, {"ok": True, "username": name, "token": value}, value)


def _reject(fmt: Format, exc: Any) -> None:
    _emit(fmt, {"ok": False, **exc.as_dict()}, f"错误：{exc.message}（{exc.code}）")
    raise typer.Exit(1)


@import_app.command("households")
def import_households(
    file: Annotated[Path, typer.Argument(help=".xlsx 或 .csv")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只校验不写入 / validate only")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
    errors_xlsx: Annotated[
        Path | None, typer.Option(help="错误报告另存为 .xlsx / write the error report")
    ] = None,
) -> None:
    """导入家庭与成员（全部成功才写入）/ Import households; all or nothing."""
    _setup()
    from minzheng.registry.imports import households_import

    if not file.is_file():
        _emit(
            fmt,
            {
                "ok": False,
                "rows": 0,
                "errors": [
                    {
                        "row": None,
                        "column": None,
                        "code": "file.not_found",
                        "message": f"文件不存在：{file}",
                    }
                ],
            },
            f"错误：文件不存在：{file}",
        )
        raise typer.Exit(1)
    report = households_import(
        actor=None, content=file.read_bytes(), filename=file.name, dry_run=dry_run
    )
    if errors_xlsx is not None and report.errors and report.source_rows:
        errors_xlsx.write_bytes(report.error_workbook())
    lines = [
        f"{'校验通过' if report.ok else '导入被拒绝，未写入任何数据'}：{report.rows} 行，{report.households} 户，{report.persons} 人"
        + ("（仅校验）" if dry_run else "")
    ]
    lines += [
        f"  第 {e['row']} 行 [{e['column']}] {e['message']}（{e['code']}）"
        if e["row"]
        else f"  {e['message']}（{e['code']}）"
        for e in report.errors[:200]
    ]
    _emit(fmt, report.as_dict(), "\n".join(lines))
    if not report.ok:
        raise typer.Exit(1)


@export_app.command("households")
def export_households(
    file: Annotated[Path, typer.Argument(help=".xlsx 或 .csv")],
    division: Annotated[str | None, typer.Option(help="区划代码 / division code")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """按导入模板导出家庭 / Export households in the import template."""
    suffix = file.suffix.lower()
    if suffix not in {".xlsx", ".csv"}:
        err.print("文件须为 .xlsx 或 .csv / file must be .xlsx or .csv")
        raise typer.Exit(2)
    _setup()
    from minzheng.accounts.services import system_user
    from minzheng.core.errors import ApplicationError
    from minzheng.registry.imports import households_export

    try:
        content, rows = households_export(
            actor=system_user(), division=division, fmt=suffix[1:], reason="命令行导出"
        )
    except ApplicationError as exc:
        _reject(fmt, exc)
    file.write_bytes(content)
    _emit(fmt, {"ok": True, "rows": rows, "file": str(file)}, f"已导出 {rows} 行：{file}")


class OutFormat(StrEnum):
    json = "json"
    csv = "csv"
    parquet = "parquet"


def _read_documents(file: Path) -> tuple[list[Any] | None, bool]:
    """(documents, single) from .json (one document or a list) or .jsonl."""
    text = file.read_text(encoding="utf-8")
    if file.suffix.lower() == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()], False
    body = json.loads(text)
    return ([body], True) if isinstance(body, dict) else (body, False)


def _fail(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    for e in payload.get("errors", [])[:200]:
        where = "，".join(
            f"{k} {e[k]}" for k in ("row", "household", "member", "field") if e.get(k) is not None
        )
        err.print(f"{where}：{e.get('message')}（{e.get('code')}）")
    raise typer.Exit(1)


@app.command()
def evaluate(
    file: Annotated[Path, typer.Argument(help=".json（单个或列表）、.jsonl 或扁平 .parquet")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="评估日期 YYYY-MM-DD，缺省今天")
    ] = None,
    programme: Annotated[
        list[str] | None, typer.Option("--programme", help="项目编号，可重复")
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="附带决定结果的变量与参数")] = False,
    fmt: Annotated[OutFormat, typer.Option("--format")] = OutFormat.json,
    output: Annotated[
        Path | None, typer.Option("--output", help="写入文件（缺省标准输出）")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="跳过有误的家庭并列出")
    ] = False,
) -> None:
    """评估家庭可享受的救助项目 / Evaluate household documents against every programme."""
    from datetime import date

    import polars as pl

    when = None
    if as_of:
        try:
            when = date.fromisoformat(as_of)
        except ValueError:
            _fail({"ok": False, "errors": [{"field": "as_of", "code": "field.date_parsing",
                                            "message": f"日期格式应为 YYYY-MM-DD：{as_of}"}]})  # fmt: skip
    if not file.is_file():
        _fail({"ok": False, "errors": [{"field": "file", "code": "file.not_found",
                                        "message": f"文件不存在：{file}"}]})  # fmt: skip
    if fmt != OutFormat.json and output is None and fmt == OutFormat.parquet:
        err.print("--format parquet 需要 --output 文件 / parquet output needs --output")
        raise typer.Exit(2)
    _setup()
    from minzheng.core.errors import ApplicationError, ValidationFailed
    from minzheng.programmes import services

    single = False
    try:
        if file.suffix.lower() == ".parquet":
            try:
                frame = pl.read_parquet(file)
            except Exception as exc:
                _fail({"ok": False, "errors": [{"field": "file", "code": "file.unreadable",
                                                "message": f"无法读取 Parquet 文件：{exc}"}]})  # fmt: skip
            when = when or date.today()
            if fmt != OutFormat.json:
                table = services.evaluate_flat(frame, as_of=when, programmes=programme)
                _write_table(table, when, fmt, output)
                return
            results = services.evaluate_flat(
                frame, as_of=when, programmes=programme, explain=explain, table=False
            )
            skipped: list[Any] = []
        else:
            try:
                docs, single = _read_documents(file)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                _fail({"ok": False, "errors": [{"field": "file", "code": "json_invalid",
                                                "message": f"不是有效的 JSON：{exc}"}]})  # fmt: skip
            if not isinstance(docs, list):
                _fail({"ok": False, "errors": [{"field": "file", "code": "evaluation.body",
                                                "message": "文件应为家庭文档或文档列表"}]})  # fmt: skip
            outcome = services.evaluate_documents(
                docs or [], as_of=when, programmes=programme, explain=explain,
                skip_invalid=skip_invalid,
            )  # fmt: skip
            results, skipped = outcome.results, outcome.skipped
    except ValidationFailed as exc:
        _fail({"ok": False, "evaluated": 0, **exc.as_dict(), "errors": exc.errors})
    except ApplicationError as exc:
        _fail({"ok": False, **exc.as_dict(), "errors": [{"field": None, "code": exc.code,
                                                         "message": exc.message}]})  # fmt: skip
    for bad in skipped:
        err.print(f"已跳过 {bad['household']}（第 {bad['index']} 个）："
                  + "；".join(f"{e['field']} {e['message']}" for e in bad["errors"]))  # fmt: skip
    if fmt == OutFormat.json:
        payload: Any = results[0] if single and results else results
        text = json.dumps(payload, ensure_ascii=False, indent=1) + "\n"
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return
    rows = [
        {"household": r["household"], "as_of": r["as_of"], "programme": pid,
         "eligible": v["eligible"], "amount": v["amount"], "unit": v["unit"]}
        for r in results for pid, v in r["programmes"].items()
    ]  # fmt: skip
    _write_long(pl.DataFrame(rows), fmt, output)


def _write_table(table: Any, when: Any, fmt: OutFormat, output: Path | None) -> None:
    import polars as pl

    long = table.unpivot(index="household").with_columns(
        pl.col("variable").str.split("__").list.get(0).alias("programme"),
        pl.col("variable").str.split("__").list.get(1).alias("field"),
    )
    wide = (
        long.pivot(on="field", index=["household", "programme"], values="value")
        .with_columns(pl.col("eligible") == "true", pl.lit(when.isoformat()).alias("as_of"))
        .select("household", "as_of", "programme", "eligible", "amount")
    )
    _write_long(wide, fmt, output)


def _write_long(frame: Any, fmt: OutFormat, output: Path | None) -> None:
    if fmt == OutFormat.parquet and output is not None:
        frame.write_parquet(output)
    elif output is not None:
        frame.write_csv(output)
    else:
        sys.stdout.write(frame.write_csv())


def _payroll_user(name: str) -> Any:
    from minzheng.accounts.models import User

    user = User.objects.filter(username=name, is_active=True).first()
    if user is None:
        err.print(f"错误：用户 {name} 不存在 / no such user")
        raise typer.Exit(1)
    return user


def _payroll_done(fmt: Format, run: Any) -> None:
    from minzheng.benefits.selectors import payroll_out

    out = payroll_out(run)
    _emit(fmt, out, f"批次 {run.number}（#{run.pk}）：{run.get_status_display()}，"
                    f"{run.line_count} 笔，合计 {run.line_amount:.2f} 元")  # fmt: skip


@payroll_app.command("create")
def payroll_create(
    period: Annotated[str, typer.Argument(help="发放月份 YYYY-MM")],
    user: Annotated[str, typer.Option("--user", help="制表人（区级审批员）用户名")],
    division: Annotated[
        str | None, typer.Option(help="区或街道区划代码，缺省为制表人所在区划")
    ] = None,
    execute: Annotated[bool, typer.Option("--execute/--queue-only", help="创建后立即计算")] = True,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """创建并计算某月的发放批次 / Create (and compute) the payroll of a month."""
    _setup()
    from minzheng.benefits import payroll
    from minzheng.core.errors import ApplicationError

    try:
        run = payroll.payroll_create(actor=_payroll_user(user), period=period, division=division)
    except ApplicationError as exc:
        _reject(fmt, exc)
        raise typer.Exit(1) from None
    if execute:
        with _progress() as bar:
            task = bar.add_task("计算发放 / computing", total=None)
            run = payroll.payroll_execute(
                run.pk, on_progress=lambda d, t: bar.update(task, completed=d, total=t)
            )
    _payroll_done(fmt, run)


@payroll_app.command("execute")
def payroll_execute(
    run_id: Annotated[int, typer.Argument(help="发放批次 id")],
    chunk: Annotated[int, typer.Option(help="每批计算的待遇数")] = 50_000,
    pause: Annotated[float, typer.Option(help="每批之后暂停的秒数（测试中断恢复用）")] = 0.0,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """计算（或中断后继续计算）发放批次 / Compute, or resume computing, a payroll run."""
    _setup()
    from minzheng.benefits import payroll

    with _progress() as bar:
        task = bar.add_task("计算发放 / computing", total=None)
        run = payroll.payroll_execute(
            run_id, chunk=chunk, pause=pause,
            on_progress=lambda d, t: bar.update(task, completed=d, total=t),
        )  # fmt: skip
    _payroll_done(fmt, run)


@payroll_app.command("approve")
def payroll_approve(
    run_id: Annotated[int, typer.Argument(help="发放批次 id")],
    user: Annotated[str, typer.Option("--user", help="审批人（另一名区级审批员）用户名")],
    reason: Annotated[str, typer.Option(help="审批意见")] = "同意发放",
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """审批发放批次（四眼原则）/ Approve a payroll run (four eyes)."""
    _setup()
    from minzheng.benefits import payroll
    from minzheng.core.errors import ApplicationError

    try:
        run = payroll.payroll_approve(actor=_payroll_user(user), run_id=run_id, reason=reason)
    except ApplicationError as exc:
        _reject(fmt, exc)
        raise typer.Exit(1) from None
    _payroll_done(fmt, run)


@app.command("evaluate-registry")
def evaluate_registry(
    as_of: Annotated[str | None, typer.Option("--as-of", help="评估日期，缺省今天")] = None,
    division: Annotated[str | None, typer.Option(help="只评估此区划")] = None,
    once: Annotated[
        bool, typer.Option("--once", help="已有完成的评估时跳过（make run 用）")
    ] = False,
) -> None:
    """评估整个登记库并保存结果 / Evaluate the whole registry and store the results."""
    from datetime import date

    _setup()
    from minzheng.core.errors import ApplicationError
    from minzheng.programmes import services
    from minzheng.programmes.models import EvaluationRun, RunStatus

    if once and EvaluationRun.objects.filter(status=RunStatus.DONE, division__isnull=True).exists():
        typer.echo("已有完成的全库评估，跳过 / a completed evaluation exists, skipped")
        return

    try:
        run = services.evaluation_run_create(
            None, as_of=date.fromisoformat(as_of) if as_of else date.today(), division=division
        )
    except (ApplicationError, ValueError) as exc:
        err.print(f"错误：{getattr(exc, 'message', exc)}")
        raise typer.Exit(1) from None
    with _progress() as bar:
        task = bar.add_task("评估 / evaluating", total=None)
        services.evaluation_run_execute(
            run.pk, on_progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    run.refresh_from_db()
    typer.echo(
        f"已完成：{run.total} 户，其中 {run.eligible_households} 户可能符合至少一个项目（评估 #{run.pk}）"
    )


@app.command("casework-scan")
def casework_scan(
    as_of: Annotated[str | None, typer.Option("--as-of", help="日期，缺省今天")] = None,
    division: Annotated[str | None, typer.Option(help="只对此区划运行主动发现")] = None,
    every: Annotated[
        int | None, typer.Option("--every", help="每隔 N 秒重复运行（作为常驻定时任务）")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """生活事件与主动发现（定时任务）/ Life events and proactive discovery (the scheduled job).

    First the life-event scan (registry changes since the last scan raise tasks and bring
    recipients' reviews forward), then proactive discovery over the registry.
    """
    import json
    import time
    from dataclasses import asdict
    from datetime import date

    _setup()
    from minzheng.casework import discovery, events, selectors
    from minzheng.core.errors import ApplicationError

    while True:
        try:
            day = date.fromisoformat(as_of) if as_of else None
            scan = events.life_events_scan(day)
            run = discovery.discovery_run(None, as_of=day, division=division)
        except (ApplicationError, ValueError) as exc:
            err.print(f"错误：{getattr(exc, 'message', exc)}")
            raise typer.Exit(1) from None
        report = {"life_events": asdict(scan), "discovery": selectors.run_out(run)}
        if fmt == Format.json:
            typer.echo(json.dumps(report, ensure_ascii=False))
        else:
            typer.echo(
                ("生活事件：首次运行，已记录登记库现状" if scan.baseline else
                 f"生活事件：{scan.events} 件，生成待办 {scan.tasks} 件，提前复核 {scan.reviews} 项待遇")
                + f"\n主动发现：评估 {run.households} 户，可能符合 {run.eligible}（户×项目），"
                f"已享受 {run.receiving}，已申请 {run.applied}，新发现 {run.new_items}，"
                f"更新 {run.refreshed_items}，自动关闭 {run.resolved_items}（{run.seconds:.1f} 秒）"
            )  # fmt: skip
        if not every:
            return
        time.sleep(every)


@app.command("reports-refresh")
def reports_refresh(
    division: Annotated[str | None, typer.Option(help="只刷新此区划及其下级（缺省全部）")] = None,
    every: Annotated[
        int | None, typer.Option("--every", help="每隔 N 秒重复刷新（作为常驻定时任务）")
    ] = None,
) -> None:
    """刷新统计看板的缓存数据（定时任务）/ Refresh the dashboards' cached figures (the scheduled job)."""
    import time

    _setup()
    from minzheng.registry.models import Division
    from minzheng.reports import aggregates

    while True:
        roots = (
            list(Division.objects.filter(code=division))
            if division
            else list(Division.objects.filter(parent__isnull=True))
        )
        if not roots:
            err.print(f"错误：区划代码不存在：{division}")
            raise typer.Exit(1)
        started = time.perf_counter()
        written = sum(aggregates.refresh(root) for root in roots)
        typer.echo(f"统计看板已刷新：{written} 个区划（{time.perf_counter() - started:.1f} 秒）")
        if not every:
            return
        time.sleep(every)


@app.command("eldercare-sweep")
def eldercare_sweep(
    every: Annotated[
        int | None, typer.Option("--every", help="每隔 N 秒重复运行（作为常驻定时任务）")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """巡视探访与紧急呼叫预警（定时任务）/ Raise and escalate eldercare alerts (the scheduled job)."""
    import json
    import time

    _setup()
    from minzheng.eldercare.visits import alerts_sweep

    while True:
        done = alerts_sweep()
        if fmt == Format.json:
            typer.echo(json.dumps(done, ensure_ascii=False, default=str))
        else:
            typer.echo("养老预警：" + "，".join(f"{k} {v}" for k, v in done.items()))
        if not every:
            return
        time.sleep(every)


@app.command()
def simulate(
    set_: Annotated[list[str], typer.Option("--set", help="参数=新取值，如 dibao.standard=1500")],
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    division: Annotated[str | None, typer.Option(help="区划代码")] = None,
    synthetic: Annotated[int | None, typer.Option(help="用 N 户合成数据代替登记库")] = None,
    level: Annotated[int, typer.Option(help="汇总到区划代码的前几位：6 区、9 街道")] = 9,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """参数变化的影响测算 / What-if: changed parameters against the baseline."""
    from datetime import date

    _setup()
    from minzheng.core.errors import ApplicationError
    from minzheng.programmes import services

    try:
        overrides = services.parse_overrides(set_)
        when = date.fromisoformat(as_of) if as_of else date.today()
        if synthetic:
            from minzheng.programmes.frames import frames_from_generator

            h, p = frames_from_generator(synthetic)
            report = services.simulate_frames(h, p, as_of=when, overrides=overrides, level=level)
        else:
            report = services.simulate(None, overrides=overrides, as_of=when, division=division,
                                       level=level)  # fmt: skip
    except ApplicationError as exc:
        _reject(fmt, exc)
    lines = [f"测算日期 {report['as_of']}，{report['households']} 户；修改：{report['overrides']}",
             f"{'项目':<14}{'受益户(前)':>10}{'受益户(后)':>10}{'月支出(前)':>16}{'月支出(后)':>16}{'增加':>8}{'减少':>8}"]  # fmt: skip
    for r in report["programmes"]:
        lines.append(f"{r['label']:<14}{r['base_beneficiaries']:>10}{r['reform_beneficiaries']:>10}"
                     f"{r['base_cost']:>16}{r['reform_cost']:>16}{r['gaining']:>8}{r['losing']:>8}")  # fmt: skip
    _emit(fmt, {"ok": True, **report}, "\n".join(lines))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址 / host")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(help="进程数，缺省为 CPU 核数的两倍 / workers (default 2 per core)"),
    ] = None,
) -> None:
    """生产服务器（gunicorn）/ Production server (gunicorn).

    Sync workers wait for each commit, so two per core keep the CPUs busy (measured on
    the call-device gateway, 2 cores: p99 over 100 ms with 2 workers, ~30 ms with 4)."""
    workers = workers or 2 * (os.cpu_count() or 1)
    _setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "minzheng.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--config",
        "python:minzheng.config.gunicorn_conf",
        "--access-logfile",
        "-",
        "--timeout",
        "120",
    ]
    os.execv(sys.executable, argv)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
