"""PDF documents (receipts, notices, decision letters) rendered from Django templates.

A template under ``templates/`` is rendered to HTML with its context, and WeasyPrint lays
the HTML out into a PDF (ADR 12). The templates carry their own CSS (``pdf/base.html``);
the Chinese text needs the Noto CJK fonts (Debian's ``fonts-noto-cjk``) and WeasyPrint
needs Pango (``libpango-1.0-0``, ``libpangoft2-1.0-0``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

from minzheng.core.errors import ApplicationError

# Relative URLs in a PDF template (there are none today) resolve inside the package,
# never against the working directory of the process.
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

UNAVAILABLE_CODE = "pdf.unavailable"
UNAVAILABLE_MESSAGE = "PDF 生成组件不可用，请联系管理员"


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render ``template_name`` with ``context`` and return the PDF file's bytes.

    The context holds display values only (formatted dates, amounts as text, masked ID
    numbers): the template computes nothing. Raises ``ApplicationError`` (503,
    ``pdf.unavailable``) when WeasyPrint or its system libraries are missing.
    """
    html = render_to_string(template_name, context)
    try:
        # Imported here: loading WeasyPrint (and Pango through cffi) takes about a second,
        # which no request that does not make a PDF should pay.
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: cffi could not load libpango
        raise ApplicationError(UNAVAILABLE_CODE, UNAVAILABLE_MESSAGE, status=503) from exc
    document = weasyprint.HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/")
    pdf: bytes = document.write_pdf()
    return pdf
