"""Forms of the programme pages: start an evaluation run, describe a what-if."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from minzheng.core.errors import ApplicationError
from minzheng.programmes import services
from minzheng.rules.evaluate import default_evaluator
from minzheng.rules.parameters import Parameter, ParameterError, same_shape

WHAT_IF_ROWS = 3
LEVELS = [("9", _("街道")), ("6", _("区"))]


class _ChineseForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", _("："))
        super().__init__(*args, **kwargs)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RunForm(_ChineseForm):
    as_of = forms.DateField(label=_("评估日期"), initial=timezone.localdate, widget=_date_input())
    division = forms.CharField(label=_("范围"), required=False, max_length=12)


def shown_value(value: Any) -> str:
    """A parameter value as the user types it (JSON is YAML, which the form reads)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def parameter_rows(as_of: date) -> list[dict[str, Any]]:
    """Every parameter with its value in force on ``as_of`` (empty if not yet in force)."""
    rows = []
    for p in default_evaluator().parameters:
        try:
            current = shown_value(p.at(as_of).value)
        except ParameterError:
            current = ""
        rows.append({"name": p.name, "label": p.label, "unit": p.unit, "current": current})
    return rows


def _shape_message(parameter: Parameter, base: Any) -> str:
    name = f"{parameter.label}（{parameter.name}）"
    if isinstance(base, bool):
        return gettext("参数 %(name)s 的取值应为 true 或 false") % {"name": name}
    if isinstance(base, int | float):
        return gettext("参数 %(name)s 的取值应为不小于 0 的数字") % {"name": name}
    return gettext("参数 %(name)s 的取值应与现行取值的结构相同，例如：%(example)s") % {
        "name": name,
        "example": shown_value(base),
    }


class WhatIfForm(_ChineseForm):
    as_of = forms.DateField(label=_("测算日期"), initial=timezone.localdate, widget=_date_input())
    level = forms.ChoiceField(label=_("分组"), choices=LEVELS, initial="9")
    division = forms.CharField(label=_("范围"), required=False, max_length=12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("（不修改）"))] + [
            (p.name, f"{p.label}（{p.name}）") for p in default_evaluator().parameters
        ]
        for i in range(1, WHAT_IF_ROWS + 1):
            self.fields[f"name_{i}"] = forms.ChoiceField(
                label=_("参数"),
                choices=choices,
                required=False,
                error_messages={"invalid_choice": _("未知参数：%(value)s")},
            )
            self.fields[f"value_{i}"] = forms.CharField(
                label=_("新取值"), required=False, max_length=500
            )

    def rows(self) -> list[dict[str, Any]]:
        """The parameter rows, for the template."""
        return [
            {"name": self[f"name_{i}"], "value": self[f"value_{i}"]}
            for i in range(1, WHAT_IF_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if self.errors:
            return data
        as_of: date = data["as_of"]
        parameters = default_evaluator().parameters
        overrides: dict[str, Any] = {}
        for i in range(1, WHAT_IF_ROWS + 1):
            name, raw = data.get(f"name_{i}") or "", (data.get(f"value_{i}") or "").strip()
            if not name and not raw:
                continue
            if not name:
                self.add_error(f"name_{i}", gettext("请选择要修改的参数"))
                continue
            parameter = parameters.get(name)
            if not raw:
                self.add_error(
                    f"value_{i}", gettext("请填写参数 %(name)s 的新取值") % {"name": name}
                )
                continue
            if name in overrides:
                self.add_error(f"name_{i}", gettext("参数 %(name)s 重复修改") % {"name": name})
                continue
            try:
                (value,) = services.parse_overrides([f"{name}={raw}"]).values()
                base = parameter.at(as_of).value
            except ApplicationError as exc:
                self.add_error(f"value_{i}", exc.message)
                continue
            except ParameterError as exc:
                self.add_error(f"name_{i}", str(exc))
                continue
            if not same_shape(base, value):
                self.add_error(f"value_{i}", _shape_message(parameter, base))
                continue
            overrides[name] = value
        if not overrides and not self.errors:
            raise forms.ValidationError(gettext("请至少修改一个参数"), code="no_change")
        data["overrides"] = overrides
        return data
