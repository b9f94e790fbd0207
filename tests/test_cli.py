"""The ``minzheng`` command as scripts use it: exit codes 0 / 1 / 2 and ``--format json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minzheng.cli import app
from minzheng.registry.models import Household, Person
from minzheng.registry.spreadsheet import write_xlsx
from tests.fixtures import COMMUNITY_A, _id

runner = CliRunner()
pytestmark = pytest.mark.django_db


def test_help_is_bilingual() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "命令行" in result.output and "command line" in result.output


def test_usage_error_exits_2() -> None:
    assert runner.invoke(app, ["createuser"]).exit_code == 2
    assert runner.invoke(app, ["demo", "--households", "0"]).exit_code == 2


def test_createuser_token_and_rejections(divisions: None) -> None:
    ok = runner.invoke(
        app,
        [
            "createuser",
            "li",
            "--role",
            "street_reviewer",
            "--division",
            "110102009",
            "--format",
            "json",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["role"] == "street_reviewer"
    dup = runner.invoke(
        app,
        [
            "createuser",
            "li",
            "--role",
            "street_reviewer",
            "--division",
            "110102009",
            "--format",
            "json",
        ],
    )
    assert dup.exit_code == 1
    assert json.loads(dup.stdout)["code"] == "user.exists"
    bad_role = runner.invoke(app, ["createuser", "x", "--role", "boss", "--division", "110102"])
    assert bad_role.exit_code == 1
    liaison = runner.invoke(
        app, ["createuser", "y", "--role", "department_liaison", "--division", "110102"]
    )
    assert liaison.exit_code == 1
    token = runner.invoke(app, ["token", "li"])
    assert token.exit_code == 0 and token.stdout.strip().startswith("mz_")
    assert runner.invoke(app, ["token", "nobody"]).exit_code == 1


def _sheet(id_number: str) -> bytes:
    return write_xlsx(
        [
            {
                "户编号": "C1",
                "所属区划代码": COMMUNITY_A,
                "户籍类型": "本市户籍",
                "姓名": "孙七",
                "公民身份号码": id_number,
                "与户主关系": "户主",
            }
        ]
    )


def test_import_reports_json_and_exit_codes(divisions: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_sheet("110102195001010010"))
    result = runner.invoke(app, ["import", "households", str(bad), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["rows"] == 1
    assert report["errors"] == [
        {
            "row": 2,
            "column": "公民身份号码",
            "code": "id_number.checksum",
            "message": "身份证号码校验位错误",
        }
    ]
    good = tmp_path / "good.xlsx"
    good.write_bytes(_sheet(_id("11010219500101001")))
    dry = runner.invoke(app, ["import", "households", str(good), "--dry-run", "--format", "json"])
    assert dry.exit_code == 0 and json.loads(dry.stdout)["ok"] is True
    assert not Person.objects.filter(name="孙七").exists()
    done = runner.invoke(app, ["import", "households", str(good)])
    assert done.exit_code == 0, done.output
    assert Person.objects.filter(name="孙七").exists()
    missing = runner.invoke(app, ["import", "households", str(tmp_path / "none.xlsx")])
    assert missing.exit_code == 1


def test_export_round_trip(divisions: None, tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(_sheet(_id("11010219500101001")))
    assert runner.invoke(app, ["import", "households", str(good)]).exit_code == 0
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["export", "households", str(out), "--division", "110102", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 1
    assert _id("11010219500101001") in out.read_text(encoding="utf-8-sig")
    assert runner.invoke(app, ["export", "households", str(tmp_path / "x.pdf")]).exit_code == 2


def test_demo_is_deterministic_and_loads_once(db: None, tmp_path: Path) -> None:
    first = runner.invoke(app, ["demo", "--households", "40", "--seed", "3", "--format", "json"])
    assert first.exit_code == 0, first.output
    payload = json.loads(first.stdout)
    assert payload["households_added"] == 40
    assert {u["role"] for u in payload["users"]} >= {"community_worker", "auditor", "resident"}
    from minzheng.eldercare.models import ProviderMember

    # the demo's provider login works for the demo's provider, so its orders page opens
    assert ProviderMember.objects.filter(user__username="provider").count() == 1
    again = runner.invoke(app, ["demo", "--households", "40", "--seed", "3", "--format", "json"])
    assert json.loads(again.stdout)["households_added"] == 0
    assert Household.objects.count() == 40
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert (
        runner.invoke(
            app, ["demo", "--households", "50", "--seed", "9", "--output", str(a)]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app, ["demo", "--households", "50", "--seed", "9", "--output", str(b)]
        ).exit_code
        == 0
    )
    assert a.read_bytes() == b.read_bytes()
    assert len(a.read_text().splitlines()) == 50


def test_the_scheduled_jobs_report_in_json_and_refuse_unknown_divisions(divisions: None) -> None:
    from tests.fixtures import pensioner

    pensioner("800.00", "11010219500101123")
    first = runner.invoke(app, ["casework-scan", "--format", "json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.output.strip().splitlines()[-1])
    assert report["life_events"]["baseline"] is True
    # a pensioner on 800.00 a month appears to qualify for dibao (and more) and has not applied
    assert report["discovery"]["new_items"] >= 1 and report["discovery"]["status"] == "done"
    again = json.loads(
        runner.invoke(app, ["casework-scan", "--format", "json"]).output.strip().splitlines()[-1]
    )
    assert again["discovery"]["new_items"] == 0  # nothing found twice
    assert runner.invoke(app, ["casework-scan", "--division", "999999"]).exit_code == 1
    assert runner.invoke(app, ["reports-refresh", "--division", "999999"]).exit_code == 1
    refreshed = runner.invoke(app, ["reports-refresh", "--division", "110102"])
    assert refreshed.exit_code == 0 and "统计看板已刷新" in refreshed.output
    sweep = runner.invoke(app, ["eldercare-sweep", "--format", "json"])
    assert sweep.exit_code == 0, sweep.output
    assert isinstance(json.loads(sweep.output.strip().splitlines()[-1]), dict)
