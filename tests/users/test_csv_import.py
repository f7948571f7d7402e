"""CSV import: formats, validation in both modes, duplicates, a non-CSV file, 100,000 rows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from users.imports import csv_import
from users.imports.models import CsvImport
from users.models import ManagedUser, Tag

HEADER = "username,firstname,lastname,email,managed_apple_id,comment,tags\r\n"


def write(tmp_path, text: str | bytes, name="users.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def upload(client, data: bytes | str, name="users.csv"):
    data = data.encode() if isinstance(data, str) else data
    response = client.post("/users/import/csv/", {"file": SimpleUploadedFile(name, data)})
    return response, CsvImport.objects.order_by("-pk").first()


def test_bom_semicolons_and_quoted_newlines(tmp_path, tenant):
    text = (
        "\ufeffUserName;FirstName;LastName;E-Mail;Managed Apple ID;Comment;Tags\r\n"
        "alice;Alice;Ä Umlaut;alice@contoso.example;alice@contoso.appleid.com;"
        '"line one\nline two; with semicolon";sales|berlin\r\n'
        "bob;Bob;B;bob@contoso.example;;;\r\n"
    )
    path = write(tmp_path, text)
    delimiter, columns, _rows = csv_import.open_rows(path)
    assert delimiter == ";" and columns[:4] == ["username", "firstname", "lastname", "email"]
    outcome = csv_import.run(tenant, path, all_or_nothing=True)
    assert (outcome.created, outcome.invalid) == (2, 0)
    alice = ManagedUser.objects.get(username="alice")
    assert alice.comment == "line one\nline two; with semicolon"
    assert alice.last_name == "Ä Umlaut"
    assert sorted(alice.tags.values_list("name", flat=True)) == ["berlin", "sales"]
    assert alice.source == ManagedUser.Source.CSV


def test_tabs_and_existing_users_are_updated(tmp_path, tenant, managed_user):
    path = write(
        tmp_path,
        "username\temail\tfirstname\n"
        "ALICE\talice.new@contoso.example\tAlicia\n"
        "carol\tcarol@contoso.example\tCarol\n",
    )
    outcome = csv_import.validate(tenant, path)
    assert (outcome.new, outcome.existing, outcome.invalid) == (1, 1, 0)
    outcome = csv_import.run(tenant, path, all_or_nothing=False)
    assert (outcome.created, outcome.updated) == (1, 1)
    managed_user.refresh_from_db()
    assert (managed_user.email, managed_user.first_name) == ("alice.new@contoso.example", "Alicia")
    assert managed_user.managed_apple_id == "alice@contoso.appleid.com"  # column absent: kept


INVALID = HEADER + (
    "ok1,A,B,ok1@contoso.example,ok1@contoso.appleid.com,,\r\n"
    ",A,B,noname@contoso.example,,,\r\n"
    "bad.mail,A,B,not-an-email,,,\r\n"
    "bad-name,A,B,dash@contoso.example,,,\r\n"
    "ok2,A,B,ok2@contoso.example,not an apple id,,\r\n"
    "OK1,A,B,dup@contoso.example,,,\r\n"
    "ok3,A,B,ok3@contoso.example,,,\r\n"
)


def test_invalid_rows_skip_mode(tmp_path, tenant):
    outcome = csv_import.run(tenant, write(tmp_path, INVALID), all_or_nothing=False)
    assert (outcome.total, outcome.created, outcome.invalid) == (7, 2, 5)
    reasons = {p["row"]: p["reason"] for p in outcome.problems}
    assert reasons[3] == "username is missing"
    assert reasons[4] == "email is not a valid e-mail address"
    assert "letters, digits" in reasons[5]
    assert "Managed Apple Account" in reasons[6]
    assert reasons[7] == "duplicate of an earlier row in this file"
    assert sorted(ManagedUser.objects.values_list("username", flat=True)) == ["ok1", "ok3"]


def test_invalid_rows_all_or_nothing_leaves_nothing(tmp_path, tenant):
    outcome = csv_import.run(tenant, write(tmp_path, INVALID), all_or_nothing=True)
    assert (outcome.created, outcome.updated, outcome.invalid) == (0, 0, 5)
    assert not ManagedUser.objects.exists() and not Tag.objects.exists()


def test_invalid_row_after_many_good_batches_rolls_everything_back(tmp_path, tenant):
    rows = "".join(f"user{i},F,L,user{i}@contoso.example,,,t{i % 3}\r\n" for i in range(2500))
    path = write(tmp_path, HEADER + rows + "broken,F,L,nope,,,\r\n")
    outcome = csv_import.run(tenant, path, all_or_nothing=True)
    assert outcome.invalid == 1 and outcome.total == 2501
    assert not ManagedUser.objects.exists() and not Tag.objects.exists()


@pytest.mark.parametrize(
    "data,message",
    [
        (b"%PDF-1.7\x00\x01\x02binary", "binary"),
        (b"", "empty"),
        (b"name,mail\r\nalice,alice@x.example\r\n", "username"),
        (b"username,firstname\r\nalice,Alice\r\n", "email"),
        ("username,email\r\nälice,a@x.example\r\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_files_that_are_not_the_expected_csv(tmp_path, tenant, data, message):
    with pytest.raises(csv_import.CsvFormatError, match=message):
        csv_import.validate(tenant, write(tmp_path, data))


def test_100000_rows(tmp_path, tenant):
    with open(tmp_path / "big.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for i in range(100_000):
            fh.write(
                f"user{i},First{i},Last{i},user{i}@contoso.example,"
                f"user{i}@contoso.appleid.com,,{'sales' if i % 2 else 'it'}\r\n"
            )
    outcome = csv_import.run(tenant, tmp_path / "big.csv", all_or_nothing=False)
    assert (outcome.total, outcome.created, outcome.invalid) == (100_000, 100_000, 0)
    assert ManagedUser.objects.filter(tenant=tenant).count() == 100_000
    assert Tag.objects.get(tenant=tenant, name="sales").users.count() == 50_000


def test_upload_preview_confirm_report(admin_client, tenant):
    response, item = upload(admin_client, INVALID)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == CsvImport.State.PREVIEW  # eager Celery validated it already
    assert (item.valid_rows, item.invalid_rows, item.new_rows) == (2, 5, 2)
    page = admin_client.get(f"/users/import/csv/{item.pk}/").content.decode()
    assert "duplicate of an earlier row" in page and 'name="mode"' in page
    admin_client.post(f"/users/import/csv/{item.pk}/", {"mode": "all"})
    item.refresh_from_db()
    assert item.state == CsvImport.State.DONE and item.created == 0
    assert (
        "Nothing was imported" in admin_client.get(f"/users/import/csv/{item.pk}/").content.decode()
    )
    _, again = upload(admin_client, INVALID)
    admin_client.post(f"/users/import/csv/{again.pk}/", {"mode": "skip"})
    again.refresh_from_db()
    assert (again.created, again.updated, again.skipped) == (2, 0, 5)
    status = admin_client.get(f"/users/import/csv/{again.pk}/status").json()
    assert status == {"state": "done", "progress": 100, "processed": 7, "total": 7}


def test_upload_of_a_non_csv_is_rejected_with_a_message(admin_client, tenant):
    _, item = upload(admin_client, b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png")
    item.refresh_from_db()
    assert item.state == CsvImport.State.REJECTED
    assert "binary" in admin_client.get(f"/users/import/csv/{item.pk}/").content.decode()


def test_template_download(admin_client):
    response = admin_client.get("/users/import/csv/template.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith(",".join(csv_import.COLUMNS))


def test_api_upload_and_confirm(api_client, tenant):
    response = api_client.post(
        "/api/user-imports/csv/",
        {"file": SimpleUploadedFile("u.csv", INVALID.encode())},
        format="multipart",
    )
    assert response.status_code == 201 and response.json()["state"] == "preview"
    pk = response.json()["id"]
    done = api_client.post(
        f"/api/user-imports/csv/{pk}/confirm/", {"mode": "skip"}, format="json"
    ).json()
    assert done["state"] == "done" and done["created"] == 2
    assert len(done["problems"]) == 5


def test_row_reasons_are_shown_in_the_readers_language():
    """The import runs in a task without a language; the page translates the stored reason."""
    from django.utils import translation

    from users.imports.csv_import import Outcome, Reason, Row, problem_text

    outcome = Outcome()
    outcome.problem(
        Row(number=3, values={"username": "dave"}),
        Reason("%(column)s is missing", {"column": "email"}),
    )
    stored = outcome.problems[0]
    assert stored["reason"] == "email is missing"
    with translation.override("de"):
        assert problem_text(stored) == "email fehlt"
    assert problem_text({"reason": "old English text"}) == "old English text"


def test_the_size_limit_is_the_services_rule_for_the_api_too(api_client, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from users.imports import csv_service

    monkeypatch.setattr(csv_service, "MAX_UPLOAD", 10)
    upload = SimpleUploadedFile("big.csv", b"username;email\n" * 3, content_type="text/csv")
    response = api_client.post("/api/user-imports/csv/", {"file": upload}, format="multipart")
    assert response.status_code == 400 and "larger than 200 MB" in str(response.json())
