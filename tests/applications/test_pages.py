"""The application pages as a worker, a resident and the public see them (no browser)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from minzheng.applications.models import Application, ApplicationDocument, ApplicationLine
from minzheng.registry.models import Household
from tests.applications.conftest import Clock, post
from tests.fixtures import COMMUNITY_A, Cast


def _apply(cast: Cast, household: Household) -> Application:
    r = post(cast.api("community_worker"), "/api/v1/applications",
             {"household": household.pk, "programmes": ["dibao"], "include_suggested": False})  # fmt: skip
    assert r.status_code == 201, r.content
    return Application.objects.get(pk=r.json()["id"])


def test_worker_takes_an_application_from_the_household_page(
    cast: Cast, poor: Household, today: Clock
) -> None:
    worker = cast.client("community_worker")
    page = worker.get(f"/households/{poor.pk}/").content.decode()
    assert f"/applications/new/?household={poor.pk}" in page
    form = worker.get(f"/applications/new/?household={poor.pk}").content.decode()
    # the engine's suggestion is ticked, with its estimate
    assert 'value="dibao" checked' in form and "1012.50" in form
    r = worker.post("/applications/new/", {"household": poor.pk, "programmes": ["dibao"],
                                           "note": "生活困难"})  # fmt: skip
    application = Application.objects.get(household=poor)
    assert r.status_code == 302 and r["Location"] == f"/applications/{application.pk}/"
    case = worker.get(r["Location"]).content.decode()
    assert "待受理" in case and "form" in case and 'value="accept"' in case


def test_form_errors_are_shown_and_nothing_moves(cast: Cast, poor: Household) -> None:
    application = _apply(cast, poor)
    worker = cast.client("community_worker")
    r = worker.post(f"/applications/{application.pk}/act/",
                    {"action": "accept", "reason": "", "programme": "dibao"}, follow=True)  # fmt: skip
    assert "请填写理由" in r.content.decode()
    assert ApplicationLine.objects.get().state == "submitted"
    r = worker.post(f"/applications/{application.pk}/act/",
                    {"action": "accept", "reason": "材料齐全", "programme": "dibao"}, follow=True)  # fmt: skip
    assert "当前：入户调查" in r.content.decode()  # the step it moved to, not the one it left
    # a program file named .pdf is refused by its content
    exe = SimpleUploadedFile("证明.pdf", b"MZ\x90\x00" * 10, content_type="application/pdf")
    r = worker.post(f"/applications/{application.pk}/documents/", {"kind": "income", "file": exe},
                    follow=True)  # fmt: skip
    assert "只接受 PDF、JPG、PNG" in r.content.decode()
    assert not ApplicationDocument.objects.exists()
    # an empty intake is refused with the reason on the page (422)
    r = worker.post("/applications/new/", {"household": poor.pk})
    assert r.status_code == 422 and "请至少选择一个申请项目" in r.content.decode()
    # asking again for the programme already open names it
    r = worker.post("/applications/new/", {"household": poor.pk, "programmes": ["dibao"]})
    assert (
        r.status_code == 409
        and "最低生活保障" in r.content.decode()
        and "不能重复申请" in r.content.decode()
    )
    assert Application.objects.count() == 1


def test_read_only_roles_see_no_action_buttons_and_others_do_not_see_the_case(
    cast: Cast, poor: Household
) -> None:
    application = _apply(cast, poor)
    page = cast.client("auditor").get(f"/applications/{application.pk}/").content.decode()
    assert "待受理" in page and 'name="action"' not in page
    assert (
        cast.client("service_provider").get(f"/applications/{application.pk}/").status_code == 404
    )
    assert cast.client("service_provider").get("/applications/new/").status_code == 403


def test_resident_follows_own_case_and_gets_the_receipt(
    cast: Cast, api: Callable[[str], Client]
) -> None:
    application = _apply(cast, cast.own)
    resident = cast.client("resident")
    page = resident.get("/applications/").content.decode()
    assert application.number in page and "我的申请" in page
    case = resident.get(f"/applications/{application.pk}/").content.decode()
    assert "受理" in case and 'value="withdraw"' in case and 'value="accept"' not in case
    receipt = resident.get(f"/applications/{application.pk}/receipt.pdf")
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF")
    # no decision yet: no letter
    line = application.lines.get()
    assert (
        resident.get(f"/applications/{application.pk}/decisions/{line.pk}.pdf").status_code == 404
    )


def test_public_notice_page_needs_no_sign_in_and_validates_objections(cast: Cast) -> None:
    anonymous = Client()
    r = anonymous.get(f"/notices/{COMMUNITY_A}/")
    assert r.status_code == 200 and "本期无公示对象" in r.content.decode()
    r = anonymous.post(f"/notices/{COMMUNITY_A}/", {"line": "abc", "content": "x"})
    assert r.status_code == 422 and "请选择异议对象" in r.content.decode()
    assert anonymous.get("/notices/999999999999/").status_code == 404
    pdf = anonymous.get(f"/notices/{COMMUNITY_A}/notice.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_inbox_in_english_on_request(cast: Cast, poor: Household) -> None:
    _apply(cast, poor)
    worker = cast.client("community_worker")
    worker.cookies["django_language"] = "en"
    page = worker.get("/applications/").content.decode()
    assert "Waiting for me" in page and "Overdue" in page


def test_every_fetch_of_a_document_file_is_logged_once(cast: Cast, poor: Household) -> None:
    from minzheng.accounts.models import AccessLog
    from minzheng.applications.services import document_attach

    application = _apply(cast, poor)
    doc = document_attach(actor=cast.users["community_worker"], application_id=application.pk,
                          kind="income", name="证明.pdf", content=b"%PDF-1.4\n%%EOF\n")  # fmt: skip
    auditor = cast.client("auditor")
    reads = AccessLog.objects.filter(actor=cast.users["auditor"])
    # a direct download is a read of the file
    r = auditor.get(f"/applications/{application.pk}/documents/{doc.pk}/file?download=1")
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"%PDF")
    assert reads.count() == 1
    # the viewer page shows what the file is; the file it embeds is the one read logged
    assert auditor.get(f"/applications/{application.pk}/documents/{doc.pk}/").status_code == 200
    assert reads.count() == 1
    auditor.get(f"/applications/{application.pk}/documents/{doc.pk}/file")
    assert reads.count() == 2
