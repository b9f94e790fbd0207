from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from minzheng.registry.vocab import Hukou


class _ChineseForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", _("："))
        super().__init__(*args, **kwargs)


class SearchForm(_ChineseForm):
    name = forms.CharField(label=_("姓名"), required=False, max_length=64)
    id_number = forms.CharField(label=_("身份证号码"), required=False, max_length=20)
    division = forms.CharField(label=_("区划"), required=False, max_length=12)


class RevealForm(_ChineseForm):
    reason = forms.CharField(label=_("查看事由"), min_length=2, max_length=200)


class HouseholdEditForm(_ChineseForm):
    address = forms.CharField(
        label=_("住址"), required=False, max_length=200, widget=forms.TextInput(attrs={"size": 48})
    )
    hukou = forms.ChoiceField(label=_("户籍类型"), choices=Hukou.choices)
    deposits = forms.DecimalField(
        label=_("存款（元）"), min_value=0, decimal_places=2, max_digits=14
    )
    securities = forms.DecimalField(
        label=_("有价证券（元）"), min_value=0, decimal_places=2, max_digits=14
    )
    houses = forms.IntegerField(label=_("房产套数"), min_value=0, max_value=99)
    vehicles = forms.IntegerField(label=_("机动车数"), min_value=0, max_value=99)
    business = forms.BooleanField(label=_("有经营实体"), required=False)
    reason = forms.CharField(
        label=_("修改原因"),
        min_length=2,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写修改原因"), "min_length": _("修改原因至少2个字")},
    )


class ImportForm(_ChineseForm):
    file = forms.FileField(label=_("选择文件（.xlsx 或 .csv）"))
    dry_run = forms.BooleanField(label=_("只校验，不写入"), required=False)
