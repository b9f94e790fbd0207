"""Attached documents: what is accepted, where it is kept, and what never gets in.

Files are checked by their first bytes, stored under MEDIA_ROOT by a random key and
served back only to users who see the application. A file name is display text: it
never becomes part of a path on disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, models
from django.test import Client
from PIL import Image
from pytest_django import Settings

from minzheng.accounts.roles import Role
from minzheng.accounts.services import token_create, user_create
from minzheng.applications import files, services
from minzheng.applications.models import ApplicationDocument
from minzheng.registry.models import Household
from tests.applications.conftest import post
from tests.fixtures import COMMUNITY_B, Cast

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


JPEG = _image("JPEG")
PNG = _image("PNG")
BOUNDARY = "----minzheng-upload-boundary"


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    """MEDIA_ROOT one level below tmp_path: anything escaping it lands in tmp_path."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def case(api: Callable[[str], Client], poor: Household) -> int:
    r = post(api("community_worker"), "/api/v1/applications",
             {"household": poor.pk, "programmes": ["dibao"], "include_suggested": False})  # fmt: skip
    assert r.status_code == 201, r.content
    return int(r.json()["id"])


def upload(client: Client, app_id: int, name: str, content: bytes, kind: str = "income") -> Any:
    """POST the file as a browser would, with the test client's own name handling."""
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(f"/api/v1/applications/{app_id}/documents", {"kind": kind, "file": file})


def raw_upload(client: Client, app_id: int, name: str, content: bytes) -> Any:
    """POST a hand-built multipart body, so the file name reaches the server untouched.

    A name a browser could send goes as UTF-8 in ``filename="…"``; one with control
    characters, quotes or backslashes in RFC 5987 form (``filename*=UTF-8''…``), which
    can carry any character, NUL and path separators included.
    """
    plain = name.isprintable() and not set(name) & {'"', "\\"}
    disposition = f'filename="{name}"' if plain else f"filename*=UTF-8''{quote(name, safe='')}"
    body = b"".join(
        [
            f"--{BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="kind"\r\n\r\nincome\r\n',
            f"--{BOUNDARY}\r\n".encode(),
            f'Content-Disposition: form-data; name="file"; {disposition}\r\n'.encode(),
            b"Content-Type: application/pdf\r\n\r\n",
            content,
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        ]
    )
    return client.post(
        f"/api/v1/applications/{app_id}/documents",
        data=body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def download(client: Client, app_id: int, doc_id: int) -> Any:
    return client.get(f"/api/v1/applications/{app_id}/documents/{doc_id}")


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("身份证.pdf", PDF, "application/pdf"),
        ("户口簿.jpg", JPEG, "image/jpeg"),
        ("收入证明.JPEG", JPEG, "image/jpeg"),
        ("病历.png", PNG, "image/png"),
    ],
)
def test_upload_is_stored_on_disk_and_downloads_unchanged(
    api: Callable[[str], Client],
    case: int,
    media: Path,
    tmp_path: Path,
    name: str,
    content: bytes,
    content_type: str,
) -> None:
    worker = api("community_worker")
    r = upload(worker, case, name, content)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["name"] == name and body["kind"] == "income"
    assert body["content_type"] == content_type
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()

    doc = ApplicationDocument.objects.get(pk=body["id"])
    # the bytes live in one file under MEDIA_ROOT, named by the random key, not the user
    (path,) = stored_files(tmp_path)
    assert path.is_relative_to(media)
    assert path.name == doc.storage_key and name not in str(path)
    assert path.read_bytes() == content
    # ... and nowhere in the database row
    assert not any(
        isinstance(f, models.BinaryField | models.FileField)
        for f in ApplicationDocument._meta.get_fields()
    )
    row = ApplicationDocument.objects.filter(pk=doc.pk).values().get()
    assert all(not isinstance(v, bytes | memoryview) for v in row.values())
    assert all(len(str(v)) < 200 for v in row.values())

    r = download(worker, case, doc.pk)
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == content
    assert r["Content-Type"] == content_type
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Disposition"].startswith("attachment")
    # the case lists it
    detail = worker.get(f"/api/v1/applications/{case}").json()
    assert [(d["id"], d["name"]) for d in detail["documents"]] == [(doc.pk, name)]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64),  # a Windows .exe
        ("page.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("leading-space.pdf", b"  %PDF-1.4\n%%EOF\n"),
        ("photo.pdf", PNG),  # content and extension disagree
        ("scan.png", JPEG),
        ("scan.jpg", PDF),
        ("report.exe", PDF),  # a real PDF with a dangerous extension
        ("report", PDF),
        ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
    ],
)
def test_wrong_type_is_415_and_writes_nothing(
    api: Callable[[str], Client], case: int, media: Path, tmp_path: Path, name: str, content: bytes
) -> None:
    r = upload(api("community_worker"), case, name, content)
    assert r.status_code == 415, r.content
    assert r.json()["code"] == "document.type"
    assert ApplicationDocument.objects.count() == 0
    assert stored_files(tmp_path) == []


def test_empty_file_is_422(
    api: Callable[[str], Client], case: int, tmp_path: Path, media: Path
) -> None:
    r = upload(api("community_worker"), case, "空白.pdf", b"")
    assert r.status_code == 422, r.content
    assert r.json()["code"] == "document.empty"
    assert ApplicationDocument.objects.count() == 0
    assert stored_files(tmp_path) == []


def test_size_limit_is_ten_megabytes(
    api: Callable[[str], Client], case: int, media: Path, tmp_path: Path
) -> None:
    worker = api("community_worker")
    limit = files.MAX_DOCUMENT_BYTES
    assert limit == 10 * 1024 * 1024
    too_big = PDF + b"\x00" * (limit + 1 - len(PDF))
    r = upload(worker, case, "扫描件.pdf", too_big)
    assert r.status_code == 413, r.content
    assert r.json()["code"] == "document.too_large"
    assert "10 MB" in r.json()["message"]
    assert ApplicationDocument.objects.count() == 0
    assert stored_files(tmp_path) == []
    # far beyond the limit: still a clean 413, not a 500
    r = upload(worker, case, "扫描件.pdf", too_big + b"\x00" * (5 * 1024 * 1024))
    assert (r.status_code, r.json()["code"]) == (413, "document.too_large")
    # exactly at the limit is accepted
    r = upload(worker, case, "扫描件.pdf", too_big[:limit])
    assert r.status_code == 201, r.content
    assert r.json()["size"] == limit


@pytest.mark.parametrize("kind", ["passport", "", "IDENTITY", "../identity"])
def test_unknown_kind_is_422(
    api: Callable[[str], Client], case: int, media: Path, tmp_path: Path, kind: str
) -> None:
    r = upload(api("community_worker"), case, "证明.pdf", PDF, kind=kind)
    assert r.status_code == 422, r.content
    assert r.json()["code"] in {"document.kind", "validation.failed"}
    if kind:
        assert r.json()["code"] == "document.kind"
    assert ApplicationDocument.objects.count() == 0
    assert stored_files(tmp_path) == []


def test_missing_file_field_is_422(api: Callable[[str], Client], case: int) -> None:
    r = api("community_worker").post(f"/api/v1/applications/{case}/documents", {"kind": "income"})
    assert r.status_code == 422 and r.json()["code"] == "validation.failed"


MALICIOUS_NAMES = [
    "../../etc/passwd.pdf",
    "..\\..\\x.pdf",
    "/etc/passwd.pdf",
    "C:\\Windows\\win.pdf",
    "..pdf.pdf",
    "收入\x00证明.pdf",
    "bell\x07\x1b[31m.pdf",
    "rtl\u202egpj.pdf",
    "line\r\nbreak.pdf",
    "<script>alert(1)</script>.pdf",
    "<script>.pdf",
    'a"b|c?d*e:f.pdf',
    "长" * 300 + ".pdf",
    "x" * 296 + ".pdf",
    "&lt;b&gt;.pdf",
]


def _assert_clean(name: str) -> None:
    assert name
    assert "/" not in name and "\\" not in name
    assert not name.startswith(".")
    assert all(ch.isprintable() for ch in name), repr(name)
    assert not set(name) & set('<>:"|?*')
    assert len(name) <= 100
    assert name.lower().endswith(".pdf")


@pytest.mark.parametrize("name", MALICIOUS_NAMES)
def test_malicious_names_are_cleaned_and_stay_inside_media_root(
    api: Callable[[str], Client], case: int, media: Path, tmp_path: Path, name: str
) -> None:
    before = set(os.listdir(Path.cwd()))
    r = raw_upload(api("community_worker"), case, name, PDF)
    assert r.status_code == 201, r.content
    doc = ApplicationDocument.objects.get(pk=r.json()["id"])
    _assert_clean(doc.name)
    assert r.json()["name"] == doc.name
    # one file, under MEDIA_ROOT/applications/<2 hex>/<key>: the name played no part
    (path,) = stored_files(tmp_path)
    assert path.parent.parent == media / "applications"
    assert path.name == doc.storage_key
    assert path.read_bytes() == PDF
    assert not Path("/etc/passwd.pdf").exists()
    assert set(os.listdir(Path.cwd())) == before
    # the download carries the cleaned name only, in a well-formed header
    r = download(api("community_worker"), case, doc.pk)
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    disposition = r["Content-Disposition"]
    assert "\n" not in disposition and "\r" not in disposition and "\x00" not in disposition
    assert "/" not in disposition.split("filename", 1)[1].replace("utf-8''", "")


@pytest.mark.parametrize("name", MALICIOUS_NAMES)
def test_service_cleans_names_it_is_given_directly(
    cast: Cast, case: int, media: Path, tmp_path: Path, name: str
) -> None:
    """The service does not rely on Django's multipart parser having cleaned the name."""
    doc = services.document_attach(actor=cast.users[Role.COMMUNITY_WORKER], application_id=case,
                                   kind="other", name=name, content=PDF)  # fmt: skip
    _assert_clean(doc.name)
    (path,) = stored_files(tmp_path)
    assert path.parent.parent == media / "applications"


def test_name_made_only_of_dots_or_separators_gets_a_placeholder() -> None:
    for raw in ("", "..", "../..", "\x00\x01", "///"):
        assert files.clean_name(raw) == "未命名"
    assert files.clean_name("a/b/../证明.pdf") == "证明.pdf"
    assert files.clean_name("..\\..\\x.pdf") == "x.pdf"
    long = files.clean_name("长" * 300 + ".pdf")
    assert len(long) == 100 and long.endswith(".pdf")


def test_out_of_scope_user_downloading_gets_404(
    api: Callable[[str], Client], case: int, media: Path, cast: Cast, make_household: Any
) -> None:
    r = upload(api("community_worker"), case, "身份证.pdf", PDF)
    doc_id = r.json()["id"]
    # a community worker of another street, and a service provider of the same district
    user_create(username="u_worker_b", role=Role.COMMUNITY_WORKER, division_code=COMMUNITY_B,
                password="pw-123456")  # fmt: skip
    other = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(username='u_worker_b')}")
    missing = download(api("community_worker"), case, doc_id + 1000)
    for client in (other, api("service_provider")):
        r = download(client, case, doc_id)
        assert r.status_code == 404
        assert r.json() == download(client, case + 1000, doc_id).json()
        assert b"%PDF" not in r.content
    assert missing.status_code == 404
    # a document is reached only through its own application: another case the same
    # worker may see does not open it
    other_case = post(other, "/api/v1/applications",
                      {"household": make_household(COMMUNITY_B).pk, "programmes": ["dibao"],
                       "include_suggested": False}).json()["id"]  # fmt: skip
    r = download(other, other_case, doc_id)
    assert r.status_code == 404 and r.json()["code"] == "document.not_found"


def test_upload_on_a_withdrawn_application_is_409(
    api: Callable[[str], Client], case: int, media: Path, tmp_path: Path
) -> None:
    worker = api("community_worker")
    r = post(worker, f"/api/v1/applications/{case}/transitions",
             {"action": "withdraw", "reason": "申请人主动撤回"})  # fmt: skip
    assert r.json()["status"] == "withdrawn"
    r = upload(worker, case, "身份证.pdf", PDF)
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "document.application_closed"
    assert ApplicationDocument.objects.count() == 0
    assert stored_files(tmp_path) == []


def test_roles_that_do_not_handle_cases_cannot_upload(
    api: Callable[[str], Client], case: int, media: Path, tmp_path: Path
) -> None:
    for role in ("auditor", "admin", "department_liaison"):
        r = upload(api(role), case, "身份证.pdf", PDF)
        assert r.status_code == 403, role
    assert ApplicationDocument.objects.count() == 0
    assert stored_files(tmp_path) == []


def test_a_failed_database_write_leaves_no_file(
    cast: Cast, case: int, media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: Any) -> ApplicationDocument:
        raise IntegrityError("simulated")

    monkeypatch.setattr(ApplicationDocument.objects, "create", refuse)
    with pytest.raises(IntegrityError):
        services.document_attach(actor=cast.users[Role.COMMUNITY_WORKER], application_id=case,
                                 kind="income", name="证明.pdf", content=PDF)  # fmt: skip
    assert stored_files(tmp_path) == []


def test_upload_via_api_returns_json_error_shape(
    api: Callable[[str], Client], case: int, media: Path
) -> None:
    r = upload(api("community_worker"), case, "x.pdf", b"MZ")
    assert set(json.loads(r.content)) == {"code", "message", "details"}
    assert "PDF" in r.json()["message"]


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary
        f"multipart/form-data; boundary={BOUNDARY}",  # a part header over Django's 1 KiB limit
    ],
)
def test_malformed_multipart_is_a_client_error(
    api: Callable[[str], Client], case: int, media: Path, content_type: str
) -> None:
    header = "Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''" + quote("长" * 300)
    body = (
        f"--{BOUNDARY}\r\n{header}.pdf\r\n\r\n".encode() + PDF + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    r = api("community_worker").post(
        f"/api/v1/applications/{case}/documents", data=body, content_type=content_type
    )
    assert r.status_code == 400 and r.json()["code"] == "request.multipart"
