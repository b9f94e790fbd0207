"""The PDF documents of the one-window workflow, as the person holding them reads them.

Each template is rendered through ``render_pdf`` and read back with PDFium: the text layer
must hold what the applicant or the public needs to see, and the page image must show
real Chinese glyphs inside the page margins.

Without WeasyPrint's system libraries (Pango) the module skips, except under
``MINZHENG_REQUIRE_BROWSER=1`` (CI, which installs them), where it fails instead.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest

from minzheng.core.errors import ApplicationError
from minzheng.core.pdf import render_pdf

try:
    import weasyprint  # noqa: F401
except (ImportError, OSError) as exc:  # OSError: cffi could not load libpango
    _message = f"WeasyPrint cannot be loaded ({exc}): install libpango-1.0-0 and libpangoft2-1.0-0"
    if os.environ.get("MINZHENG_REQUIRE_BROWSER") == "1":
        pytest.fail(_message, pytrace=False)
    pytest.skip(_message, allow_module_level=True)

RECEIPT_TEMPLATE = "applications/pdf/receipt.html"
NOTICE_TEMPLATE = "applications/pdf/notice.html"
DECISION_TEMPLATE = "applications/pdf/decision.html"

OFFICE = "北京市西城区民政局"
APPEAL = (
    "如对本决定不服，可以自收到本决定书之日起六十日内向北京市西城区人民政府申请行政复议，"
    "或者在六个月内依法向人民法院提起行政诉讼。"
)

RECEIPT: dict[str, Any] = {
    "office": OFFICE,
    "number": "SQ20261123A1B2C3",
    "received_on": "2026-11-23",
    "channel": "社区窗口",
    "applicant_name": "张三",
    "applicant_id_masked": "110102********002X",
    "household_number": "H110102009001000123",
    "division_name": "西城区展览路街道文兴街社区",
    "received_by": "展览路街道文兴街社区",
    "routed": False,
    "routed_note": "",
    "programmes": [
        {"label": "最低生活保障", "suggested": False, "state": "已受理"},
        {"label": "临时救助", "suggested": True, "state": "已受理"},
    ],
    "documents": [
        {"kind": "身份证明", "name": "id.pdf"},
        {"kind": "收入证明", "name": "income-2026-10.pdf"},
    ],
    "next_steps": [
        {"label": "入户调查", "due": "2026-12-07"},
        {"label": "街道审核", "due": "2026-12-21"},
    ],
    "status_url": "/applications/12/",
    "contact": "文兴街社区服务站 电话 010-68001234",
}

NOTICE_ROW: dict[str, Any] = {
    "name_masked": "张*",
    "id_masked": "110102********002X",
    "programme": "最低生活保障",
    "members": 2,
    "amount": "1,450.00",
    "unit": "元/月",
}
NOTICE: dict[str, Any] = {
    "office": OFFICE,
    "community_name": "文兴街社区",
    "street_name": "展览路街道",
    "title": "最低生活保障等社会救助审核结果公示",
    "period_start": "2026-12-08",
    "period_end": "2026-12-14",
    "posted_on": "2026-12-08",
    "rows": [
        NOTICE_ROW,
        {
            **NOTICE_ROW,
            "name_masked": "李*华",
            "id_masked": "110102********1234",
            "programme": "特困人员救助供养",
            "members": 1,
            "amount": "2,175.00",
        },
    ],
    "objection_text": "如有异议，请于公示期内向展览路街道办事处或西城区民政局反映。",
    "objection_url": "http://minzheng.example.gov.cn/notices/110102009001/",
    "contact": "展览路街道社会救助事务所 电话 010-68005678",
}

DECISION: dict[str, Any] = {
    "office": OFFICE,
    "number": "JD20261201000042",
    "decided_on": "2026-12-01",
    "applicant_name": "张三",
    "applicant_id_masked": "110102********002X",
    "household_number": "H110102009001000123",
    "programme": "最低生活保障",
    "approved": True,
    "amount": "1,450.00",
    "unit": "元/月",
    "start_month": "2026年12月",
    "reason": "经审核，符合条件",
    "reasons": ["家庭月人均收入 320.00 元 < 低保标准 1,450.00 元", "家庭财产符合规定"],
    "appeal": APPEAL,
    "contact": "西城区民政局社会救助科 电话 010-66001234",
}
REJECTED: dict[str, Any] = {
    **DECISION,
    "approved": False,
    "amount": "",
    "start_month": "",
    "reason": "经审核，不符合条件",
    "reasons": ["家庭月人均收入 2,310.00 元，高于低保标准 1,450.00 元"],
}


def routed_receipt() -> dict[str, Any]:
    return {
        **RECEIPT,
        "received_by": "西长安街街道西交民巷社区",
        "routed": True,
        "routed_note": "本申请由西长安街街道西交民巷社区代收，转展览路街道文兴街社区办理。",
    }


def long_notice(rows: int) -> dict[str, Any]:
    return {
        **NOTICE,
        "rows": [
            {**NOTICE_ROW, "name_masked": f"王*{i}", "id_masked": f"110102********{i:04d}"}
            for i in range(rows)
        ],
    }


def flat(text: str) -> str:
    """Text without whitespace: PDFium breaks lines where the layout wrapped them."""
    return re.sub(r"\s+", "", text)


def pages_text(pdf: bytes) -> list[str]:
    """The text layer of each page, without whitespace (compare with ``flat(...)``)."""
    document = pdfium.PdfDocument(pdf)
    return [flat(page.get_textpage().get_text_range()) for page in document]


def test_the_receipt_names_the_applicant_the_programmes_and_what_comes_next() -> None:
    pdf = render_pdf(RECEIPT_TEMPLATE, RECEIPT)

    assert pdf.startswith(b"%PDF")
    [text] = pages_text(pdf)  # one page
    for shown in (
        OFFICE,
        "社会救助申请受理回执",
        "SQ20261123A1B2C3",
        "张三",
        "110102********002X",
        "社区窗口",
        "最低生活保障",
        "临时救助（系统推荐）",
        "income-2026-10.pdf",
        "入户调查",
        "2026-12-07",
        "/applications/12/",
        "010-68001234",
        "第 1 页 / 共 1 页",
    ):
        assert flat(shown) in text
    assert "最低生活保障（系统推荐）" not in text
    assert "跨区通办" not in text


def test_a_routed_receipt_says_which_office_received_it_and_who_handles_it() -> None:
    context = routed_receipt()

    text = "".join(pages_text(render_pdf(RECEIPT_TEMPLATE, context)))

    assert "跨区通办" in text
    assert flat(context["routed_note"]) in text


def test_the_notice_lists_masked_names_and_amounts() -> None:
    pdf = render_pdf(NOTICE_TEMPLATE, NOTICE)

    assert pdf.startswith(b"%PDF")
    [text] = pages_text(pdf)
    for shown in (
        "最低生活保障等社会救助审核结果公示",
        "文兴街社区",
        "2026-12-14",
        "张*",
        "李*华",
        "110102********002X",
        "110102********1234",
        "特困人员救助供养",
        "1,450.00",
        "2,175.00",
        "元/月",
    ):
        assert flat(shown) in text
    assert flat(NOTICE["objection_text"]) in text
    assert "本期无公示对象" not in text


def test_an_empty_notice_says_there_is_no_one_to_list() -> None:
    [text] = pages_text(render_pdf(NOTICE_TEMPLATE, {**NOTICE, "rows": []}))

    assert "本期无公示对象" in text
    assert "身份证号码" not in text  # no empty table


def test_a_long_notice_runs_over_pages_and_repeats_the_table_header() -> None:
    texts = pages_text(render_pdf(NOTICE_TEMPLATE, long_notice(60)))

    assert len(texts) >= 2
    last = len(texts)
    for number, text in enumerate(texts, start=1):
        assert f"第{number}页/共{last}页" in text
        assert "身份证号码" in text  # the header row, on every page
    assert "王*59" in texts[-1]


def test_the_approval_letter_states_the_amount_and_the_appeal_route() -> None:
    pdf = render_pdf(DECISION_TEMPLATE, DECISION)

    assert pdf.startswith(b"%PDF")
    [text] = pages_text(pdf)
    for shown in (
        "最低生活保障准予批准决定书",
        "JD20261201000042",
        "张三",
        "110102********002X",
        "1,450.00",
        "元/月",
        "2026年12月",
        "行政复议",
    ):
        assert flat(shown) in text
    assert flat(APPEAL) in text
    assert "不予批准" not in text


def test_the_rejection_letter_says_not_approved_why_and_how_to_appeal() -> None:
    text = "".join(pages_text(render_pdf(DECISION_TEMPLATE, REJECTED)))

    assert "不予批准" in text
    assert flat(REJECTED["reasons"][0]) in text
    assert flat(APPEAL) in text
    assert "准予批准" not in text


# The page image.
#
# The text layer alone does not prove that Chinese is readable: when no font covers a
# character, WeasyPrint draws the font's ".notdef" glyph (an empty box, "tofu") but still
# maps it to the right character in the PDF's ToUnicode table, so the text checks above
# pass on a page full of boxes. Two checks on the pixels close that gap:
#
# 1. the title's box (found through the text layer) has dark pixels: something was drawn
#    (tofu boxes are ink too, so this alone proves little);
# 2. two letters whose titles differ only in the programme name (six different characters
#    in the same place) differ clearly in that box. Different characters have different
#    shapes; ".notdef" boxes are all the same box of the same width, so without a CJK
#    font the two crops are identical.
#
# Checked by running this module with FONTCONFIG_FILE pointing at a fontconfig that only
# knows DejaVu (no CJK font): every text test passed, this one failed. Measured: ink 0.21
# and 0.23 of the box with Noto CJK, 0.20 with tofu; pixels that differ between the two
# titles 1.03 × the ink of one title with Noto CJK, 0.00 with tofu. WeasyPrint's warning
# for each ".notdef" glyph is asserted absent too, but a change in its logging must not be
# all that guards this.

SCALE = 2  # 144 dpi: a 17 pt character is ~34 px high
DARK = 128  # grey level below which a pixel counts as ink


def page_image(pdf: bytes, index: int = 0) -> np.ndarray:
    """Page ``index`` as a 2-D array of grey levels (0 black … 255 white)."""
    page = pdfium.PdfDocument(pdf)[index]
    rgb = page.render(scale=SCALE, grayscale=True).to_numpy()
    return rgb if rgb.ndim == 2 else rgb[..., :3].mean(axis=2)


def text_box(pdf: bytes, needle: str) -> tuple[int, int, int, int]:
    """Pixel box (top, bottom, left, right) of ``needle`` on page 1, from the text layer."""
    page = pdfium.PdfDocument(pdf)[0]
    textpage = page.get_textpage()
    found = textpage.search(needle, match_case=True).get_next()
    assert found is not None, needle
    start, count = found
    boxes = [textpage.get_charbox(i, loose=True) for i in range(start, start + count)]
    height = page.get_height()
    left = min(b[0] for b in boxes)
    bottom = min(b[1] for b in boxes)
    right = max(b[2] for b in boxes)
    top = max(b[3] for b in boxes)
    # PDF points, origin bottom-left → pixels, origin top-left
    return (
        int((height - top) * SCALE),
        int((height - bottom) * SCALE) + 1,
        int(left * SCALE),
        int(right * SCALE) + 1,
    )


def test_chinese_titles_are_drawn_with_real_glyphs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        first = render_pdf(DECISION_TEMPLATE, DECISION)
        second = render_pdf(DECISION_TEMPLATE, {**DECISION, "programme": "特困人员供养"})
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]

    top, bottom, left, right = text_box(first, "最低生活保障")
    assert text_box(second, "特困人员供养") == (top, bottom, left, right)  # same place
    ink_first = page_image(first)[top:bottom, left:right] < DARK
    ink_second = page_image(second)[top:bottom, left:right] < DARK

    assert ink_first.mean() > 0.08  # ink on the title (measured ~0.2)
    assert ink_second.mean() > 0.08
    differing = np.logical_xor(ink_first, ink_second).sum()
    # measured 1.03 with Noto CJK, 0.00 with tofu boxes
    assert differing > 0.5 * max(ink_first.sum(), ink_second.sum())


@pytest.mark.parametrize(
    ("template", "context"),
    [
        (RECEIPT_TEMPLATE, RECEIPT),
        (NOTICE_TEMPLATE, long_notice(60)),
        (DECISION_TEMPLATE, REJECTED),
    ],
    ids=["receipt", "notice", "decision"],
)
def test_nothing_is_drawn_outside_the_page_margins(template: str, context: dict[str, Any]) -> None:
    pdf = render_pdf(template, context)
    margin = int(20 / 25.4 * 72 * SCALE) - 2  # 20 mm, less a pixel of anti-aliasing each side

    for index in range(len(pdfium.PdfDocument(pdf))):
        ink = page_image(pdf, index) < DARK
        assert ink[:, :margin].sum() == 0, f"page {index + 1}: ink in the left margin"
        assert ink[:, -margin:].sum() == 0, f"page {index + 1}: ink in the right margin"
        assert ink[:margin, :].sum() == 0, f"page {index + 1}: ink in the top margin"
        assert ink[margin:-margin, :].any()  # the page has content


def test_without_weasyprint_the_caller_gets_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `import weasyprint` raises

    with pytest.raises(ApplicationError) as caught:
        render_pdf(DECISION_TEMPLATE, DECISION)

    assert caught.value.code == "pdf.unavailable"
    assert caught.value.status == 503
    assert caught.value.message == "PDF 生成组件不可用，请联系管理员"
