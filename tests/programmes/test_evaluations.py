"""POST /api/v1/evaluations and `minzheng evaluate`, from the outside: the contract's
shapes, amounts checked by hand, every bad document named, nothing evaluated in part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from minzheng.cli import app
from minzheng.programmes import schemas
from tests.fixtures import Cast, _id

WORKED = Path(__file__).resolve().parents[2] / "src/minzheng/policy/tests/worked_cases.yaml"
runner = CliRunner()

PENSIONER: dict[str, Any] = {
    "id": "EX-1",
    "division": "110102",
    "hukou": "beijing",
    "members": [
        {
            "id": "P-1",
            "id_number": "110102194903027610",
            "name": "陈伟",
            "relation": "head",
            "birth_date": "1949-03-02",
            "sex": "M",
            "incomes": [{"type": "pension", "monthly": "1000.00"}],
        }
    ],
    "assets": {"deposits": "0.00", "securities": "0.00", "vehicles": 0, "houses": 1,
               "business": False},
}  # fmt: skip


def _couple(pension: str) -> dict[str, Any]:
    return {
        "id": f"C-{pension}",
        "division": "110102",
        "hukou": "beijing",
        "members": [
            {"id": "A", "id_number": _id("11010219850505001"), "name": "甲", "relation": "head",
             "incomes": [{"type": "pension", "monthly": pension}]},
            {"id": "B", "id_number": _id("11010219860606002"), "name": "乙", "relation": "spouse"},
        ],
        "assets": {"houses": 1},
    }  # fmt: skip


def _post(client: Any, body: Any, query: str = "?as_of=2024-10-01") -> Any:
    return client.post(
        f"/api/v1/evaluations{query}", data=json.dumps(body), content_type="application/json"
    )


def test_one_document_gives_one_result_worked_out_by_hand(cast: Cast) -> None:
    # 1,450 − 1,000 = 450.00 plus the 25 % add-on for aged 60+ (362.50) = 812.50
    body = _post(cast.api("community_worker"), PENSIONER).json()
    assert body["household"] == "EX-1"
    assert body["as_of"] == "2024-10-01"
    dibao = body["programmes"]["dibao"]
    assert (dibao["eligible"], dibao["amount"], dibao["unit"]) == (True, "812.50", "yuan/month")
    assert "家庭月人均收入（低保口径） 1,000.00 元 < 低保标准 1,450.00 元" in dibao["reasons"]
    assert body["programmes"]["preferential_card"]["eligible"] is True
    assert set(body["programmes"]) == set(schemas.PROGRAMME_IDS)


def test_income_exactly_at_the_standard_is_not_below_it(cast: Cast) -> None:
    # pci = 2,900 / 2 = 1,450.00, not < 1,450 → no dibao; a cent less → 0.01 × 2 = 0.02
    at, below = _post(cast.api("admin"), [_couple("2900.00"), _couple("2899.98")]).json()
    assert at["programmes"]["dibao"]["eligible"] is False
    assert (
        "家庭月人均收入（低保口径） 1,450.00 元 ≥ 低保标准 1,450.00 元"
        in (at["programmes"]["dibao"]["reasons"])
    )
    assert below["programmes"]["dibao"]["amount"] == "0.02"


def test_envelope_explain_and_programme_filter(cast: Cast) -> None:
    body = _post(
        cast.api("street_reviewer"),
        {"households": [PENSIONER], "as_of": "2024-10-01", "programmes": ["dibao"],
         "explain": True},
        query="",
    ).json()  # fmt: skip
    (result,) = body["results"]
    assert list(result["programmes"]) == ["dibao"]
    dibao = result["programmes"]["dibao"]
    assert dibao["variables"]["dibao_pci"]["value"] == "1000.00"
    standard = dibao["parameters"]["dibao.standard"]
    assert (standard["value"], standard["since"]) == (1450, "2024-07-01")
    assert "80号" in standard["source"]


def test_every_bad_document_is_named_and_none_is_evaluated(cast: Cast) -> None:
    bad_id = json.loads(json.dumps(PENSIONER))
    bad_id["id"] = "BAD-1"
    bad_id["members"][0]["id_number"] = "110102194903027611"
    negative = _couple("-5.00")
    unknown = {**_couple("100.00"), "id": "BAD-3", "pets": 2}
    response = _post(cast.api("admin"), [PENSIONER, bad_id, negative, unknown])
    assert response.status_code == 422
    errors = response.json()["details"]["errors"]
    by_household = {(e["household"], e["field"]): e for e in errors}
    assert by_household[("BAD-1", "members.0.id_number")]["code"] == "id_number.checksum"
    assert by_household[("BAD-1", "members.0.id_number")]["member"] == "P-1"
    assert ("C--5.00", "members.0.incomes.0.monthly") in by_household
    assert by_household[("BAD-3", "pets")]["code"] == "field.extra_forbidden"
    assert "EX-1" not in {e["household"] for e in errors}


def test_skip_invalid_lists_what_was_skipped(cast: Cast) -> None:
    bad = {**_couple("100.00"), "id": "BAD", "hukou": "mars"}
    body = _post(
        cast.api("admin"), {"households": [PENSIONER, bad], "skip_invalid": True}, query=""
    ).json()
    assert [r["household"] for r in body["results"]] == ["EX-1"]
    assert body["skipped"][0]["household"] == "BAD"
    assert body["skipped"][0]["errors"][0]["field"] == "hukou"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?as_of=2010-01-01", "parameter.not_in_force"),
        ("?as_of=2024-02-30", "field.date_parsing"),
        ("?as_of=2024-10-01&programme=housing", "programme.unknown"),
    ],
)
def test_bad_options_are_clear_422s(cast: Cast, query: str, code: str) -> None:
    response = _post(cast.api("admin"), PENSIONER, query=query)
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_malformed_json_is_400_not_500(cast: Cast) -> None:
    response = cast.api("admin").post(
        "/api/v1/evaluations", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "json_invalid"


def test_openapi_publishes_request_and_result_schemas(cast: Cast) -> None:
    doc = cast.api("admin").get("/api/v1/openapi.json").json()
    operation = doc["paths"]["/api/v1/evaluations"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    assert len(request["oneOf"]) == 3
    result = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "programmes" in result["oneOf"][0]["properties"]


def test_published_schema_files_are_current() -> None:
    folder = Path(__file__).resolve().parents[2] / "schemas"
    for name in schemas.FILES:
        assert (folder / name).read_text(encoding="utf-8") == schemas.render(name), (
            f"schemas/{name} is stale: run python -m minzheng.programmes.schemas schemas"
        )


# -- the command line ---------------------------------------------------------------------


def test_cli_evaluates_json_jsonl_and_writes_csv(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(PENSIONER, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(one), "--as-of", "2024-10-01"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["programmes"]["dibao"]["amount"] == "812.50"

    many = tmp_path / "many.jsonl"
    many.write_text("\n".join(json.dumps(d) for d in [PENSIONER, _couple("2900.00")]))
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["evaluate", str(many), "--as-of", "2024-10-01", "--format", "csv",
              "--output", str(out), "--programme", "dibao"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out, schema_overrides={"amount": pl.Utf8})
    assert table.sort("household").select("household", "eligible", "amount").rows() == [
        ("C-2900.00", False, "0.00"),
        ("EX-1", True, "812.50"),
    ]


def test_cli_rejects_the_batch_unless_skip_invalid(tmp_path: Path) -> None:
    bad = {**_couple("100.00"), "id": "BAD", "members": [{"name": "无号", "relation": "head"}]}
    file = tmp_path / "batch.json"
    file.write_text(json.dumps([PENSIONER, bad], ensure_ascii=False), encoding="utf-8")
    rejected = runner.invoke(app, ["evaluate", str(file), "--as-of", "2024-10-01"])
    assert rejected.exit_code == 1
    report = json.loads(rejected.stdout.splitlines()[0])
    assert report["evaluated"] == 0
    assert {(e["household"], e["field"]) for e in report["errors"]} == {
        ("BAD", "members.0.id_number")
    }
    skipped = runner.invoke(app, ["evaluate", str(file), "--as-of", "2024-10-01", "--skip-invalid"])
    assert skipped.exit_code == 0
    assert [r["household"] for r in json.loads(skipped.stdout)] == ["EX-1"]
    assert "已跳过 BAD" in skipped.stderr


def _flat_rows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "household_id": ["H1", "H2", "H2"],
            "division": ["110102001001", "110102001001", "110102001001"],
            "hukou": ["beijing", "beijing", "beijing"],
            "houses": [1, 1, 1],
            "member_id": ["a", "b", "c"],
            "id_number": ["110102194903027610", _id("11010219850505001"), _id("11010219860606002")],
            "birth_date": ["1949-03-02", "1985-05-05", "1986-06-06"],
            "income_pension": [1000.0, 2899.98, 0.0],
            "statuses": ["", "", "student"],
        }
    )


def test_cli_flat_parquet_is_vectorised_and_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    _flat_rows().write_parquet(good)
    out = tmp_path / "out.parquet"
    result = runner.invoke(
        app, ["evaluate", str(good), "--as-of", "2024-10-01", "--format", "parquet",
              "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    got = pl.read_parquet(out).filter(pl.col("programme") == "dibao").sort("household")
    # H2: pci 1,449.99 → 0.01 × 2 = 0.02, plus 25 % for the student (362.50) = 362.52
    assert got.select("household", "amount").rows() == [("H1", "812.50"), ("H2", "362.52")]

    broken = _flat_rows().with_columns(
        pl.Series(
            "id_number", ["110102194903027611", _id("11010219850505001"), _id("11010219860606002")]
        ),
        pl.Series("income_pension", [1000.0, -1.0, 0.0]),
    )
    bad = tmp_path / "bad.parquet"
    broken.write_parquet(bad)
    rejected = runner.invoke(app, ["evaluate", str(bad), "--as-of", "2024-10-01"])
    assert rejected.exit_code == 1
    errors = json.loads(rejected.stdout.splitlines()[0])["errors"]
    assert {(e["row"], e["member"], e["field"], e["code"]) for e in errors} == {
        (1, "a", "id_number", "id_number.checksum"),
        (2, "b", "income_pension", "amount.negative"),
    }


def test_cli_simulate_on_synthetic_households() -> None:
    result = runner.invoke(
        app, ["simulate", "--set", "dibao.standard=1600", "--as-of", "2025-07-01",
              "--synthetic", "2000", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    dibao = next(p for p in report["programmes"] if p["programme"] == "dibao")
    assert report["households"] == 2000
    assert dibao["reform_beneficiaries"] >= dibao["base_beneficiaries"]
    assert dibao["losing"] == 0
    streets = {r["area"] for r in report["by_division"]}
    assert all(len(a) == 9 and a.startswith("110102") for a in streets)


@pytest.mark.parametrize(
    ("setting", "code"),
    [("dibao.standrd=1500", "parameter.unknown"), ("dibao.standard", "simulation.override_format")],
)
def test_cli_simulate_rejects_bad_overrides(setting: str, code: str) -> None:
    result = runner.invoke(app, ["simulate", "--set", setting, "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["code"] == code


def test_cli_simulate_rejects_a_value_of_the_wrong_shape() -> None:
    result = runner.invoke(
        app, ["simulate", "--set", "dibao.standard=abc", "--synthetic", "100", "--format", "json"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["code"] == "parameter.override_shape"


def test_what_if_parameters_show_in_the_explanation() -> None:
    from datetime import date

    from minzheng.rules.evaluate import default_evaluator

    ev = default_evaluator()
    reform = ev.parameters.with_overrides({"dibao.standard": 1600})
    (result,) = ev.results([PENSIONER], date(2024, 10, 1), ["dibao"], True, reform)
    dibao = result["programmes"]["dibao"]
    # (1,600 − 1,000) + 25 % × 1,600 = 1,000.00
    assert dibao["amount"] == "1000.00"
    assert dibao["parameters"]["dibao.standard"]["value"] == 1600
    assert "what-if" in dibao["parameters"]["dibao.standard"]["source"]
    (base,) = ev.results([PENSIONER], date(2024, 10, 1), ["dibao"], True)
    assert base["programmes"]["dibao"]["parameters"]["dibao.standard"]["value"] == 1450


def test_a_document_missing_members_is_named_as_such(cast: Cast) -> None:
    response = _post(cast.api("admin"), {"id": "NO-MEMBERS", "division": "110102",
                                         "hukou": "beijing"})  # fmt: skip
    assert response.status_code == 422
    (error,) = response.json()["details"]["errors"]
    assert (error["household"], error["field"], error["code"]) == (
        "NO-MEMBERS",
        "members",
        "field.missing",
    )
