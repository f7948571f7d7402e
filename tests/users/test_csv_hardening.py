"""CSV import on hostile files: every case ends in a clear state (rejected, done or failed)
with the uploaded file removed; and the users CSV export neutralises formulas."""

import csv
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from tests.db_snapshot import table_counts
from users.imports import csv_export, csv_import, csv_service
from users.imports import tasks as import_tasks
from users.imports.models import CsvImport
from users.models import ManagedUser, Tag

HEADER = "username,firstname,lastname,email,managed_apple_id,comment,tags\r\n"


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def row(n, **extra):
    values = {"comment": "", "tags": "", **extra}
    return f"user{n},F,L,user{n}@contoso.example,,{values['comment']},{values['tags']}\r\n"


def upload(tenant, admin_user, data):
    data = data.encode() if isinstance(data, str) else data
    item = csv_service.start(tenant, SimpleUploadedFile("u.csv", data), account=admin_user)
    import_tasks.validate_csv_import.delay(item.pk)  # as the page and the API do
    item.refresh_from_db()
    return item


def import_(item, mode="skip"):
    csv_service.confirm(item, mode)
    import_tasks.run_csv_import.delay(item.pk)
    item.refresh_from_db()
    return item


def assert_file_removed(item):
    assert not os.path.exists(item.path)


def test_header_longer_than_the_csv_field_limit_is_rejected(tenant, admin_user):
    item = upload(tenant, admin_user, "username,email," + "x" * 200_000 + "\r\n" + row(1))
    assert item.state == CsvImport.State.REJECTED
    assert "header" in item.error
    assert_file_removed(item)


def test_single_header_field_over_the_limit_in_a_small_head(tenant, admin_user):
    # A quoted header cell with newlines keeps every line short but the field huge.
    cell = '"' + "y\n" * 80_000 + '"'
    item = upload(tenant, admin_user, f"username,email,{cell}\r\n" + row(1))
    assert item.state == CsvImport.State.REJECTED
    assert_file_removed(item)


def test_unbalanced_quote_in_header_is_rejected_not_done_with_zero_rows(tenant, admin_user):
    item = upload(tenant, admin_user, 'username,"email,comment\r\n' + row(1) + row(2))
    assert item.state == CsvImport.State.REJECTED
    assert "quotation" in item.error
    assert_file_removed(item)


def test_nul_after_the_first_64kb_is_a_row_problem(tenant, admin_user):
    rows = "".join(row(n) for n in range(2000))
    assert len(rows) > 64 * 1024
    item = upload(tenant, admin_user, HEADER + rows + row(9999, comment="bad\x00byte") + row(10000))
    assert item.state == CsvImport.State.PREVIEW
    assert item.invalid_rows == 1 and "NUL" in item.problems[0]["reason"]
    item = import_(item)
    assert item.state == CsvImport.State.DONE
    assert item.created == 2001 and item.skipped == 1
    assert not ManagedUser.objects.filter(username="user9999").exists()
    assert_file_removed(item)


def test_row_over_the_field_limit_after_writes_ends_failed(tenant, admin_user):
    # An unbalanced quote in a data row swallows the rest beyond the csv field limit.
    text = HEADER + "".join(row(n) for n in range(1500)) + 'x,"' + "z" * 200_000 + "\r\n"
    item = upload(tenant, admin_user, text)
    assert item.state == CsvImport.State.REJECTED
    assert "cannot be read" in item.error
    assert_file_removed(item)


def test_vanished_file_ends_failed(tenant, admin_user):
    item = upload(tenant, admin_user, HEADER + row(1))
    os.remove(item.path)
    item = import_(item)
    assert item.state == CsvImport.State.FAILED and "cannot be read" in item.error


def test_all_or_nothing_counts_are_the_files_after_rollback(tenant, admin_user):
    batch = csv_import.BATCH
    rows = [row(n) for n in range(batch + 10)]
    rows.append(row(3))  # duplicate of a row in the first batch
    rows.append("bad user,F,L,not-an-email,,,\r\n")
    rows += [row(n) for n in range(batch + 10, batch + 20)]
    item = upload(tenant, admin_user, HEADER + "".join(rows))
    preview = (item.total_rows, item.valid_rows, item.invalid_rows)
    assert preview == (len(rows), len(rows) - 2, 2)
    before = table_counts(exclude=("users.AuditEvent", "user_imports.CsvImport"))
    item = import_(item, "all")
    assert item.state == CsvImport.State.DONE
    assert (item.total_rows, item.valid_rows, item.invalid_rows) == preview
    assert (item.created, item.updated) == (0, 0)
    assert table_counts(exclude=("users.AuditEvent", "user_imports.CsvImport")) == before
    assert_file_removed(item)


def test_one_cell_cannot_create_thousands_of_tags(tenant, admin_user):
    many = "|".join(f"t{n}" for n in range(5000))
    item = upload(tenant, admin_user, HEADER + row(1, tags=f'"{many}"') + row(2, tags="a|b"))
    assert item.invalid_rows == 1
    assert str(csv_import.MAX_TAGS_PER_CELL) in item.problems[0]["reason"]
    item = import_(item)
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["a", "b"]


def test_api_upload_size_is_limited_in_the_service(api_client, tenant, monkeypatch, settings):
    monkeypatch.setattr(csv_service, "MAX_UPLOAD", 1000)
    data = (HEADER + "".join(row(n) for n in range(100))).encode()
    response = api_client.post(
        "/api/user-imports/csv/", {"file": SimpleUploadedFile("u.csv", data)}, format="multipart"
    )
    assert response.status_code == 400
    assert not CsvImport.objects.exists()
    assert not any((settings.VAR_DIR / "imports").glob("*"))


def test_uploaded_file_is_owner_only(tenant, admin_user, monkeypatch):
    # Validation is deferred here so the file is still on disk.
    from users.imports import tasks

    monkeypatch.setattr(tasks.validate_csv_import, "delay", lambda pk: None)
    item = upload(tenant, admin_user, HEADER + row(1))
    assert os.stat(item.path).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(item.path)).st_mode & 0o777 == 0o700


# --- export --------------------------------------------------------------------------------


def exported(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_export_neutralises_formula_cells(admin_client, tenant, start):
    ManagedUser.objects.create(
        tenant=tenant,
        username="eve",
        email="eve@contoso.example",
        first_name=f'{start}HYPERLINK("http://evil")',
        comment=f"{start}1+1",
    )
    rows = exported(admin_client.get("/users/export.csv"))
    assert rows[0] == list(csv_import.COLUMNS)
    assert rows[1][1].startswith("'" + start) and rows[1][5] == f"'{start}1+1"
    assert rows[1][0] == "eve"


def test_export_is_tenant_scoped(
    admin_client, other_admin_client, api_client, other_api_client, managed_user
):
    assert len(exported(admin_client.get("/users/export.csv"))) == 2
    assert len(exported(other_admin_client.get("/users/export.csv"))) == 1  # header only
    response = api_client.get("/api/users/export.csv/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert exported(response)[1][0] == "alice"
    assert len(exported(other_api_client.get("/api/users/export.csv/"))) == 1


def test_export_can_be_imported_again(admin_client, tenant, managed_user, tmp_path):
    body = b"".join(admin_client.get("/users/export.csv").streaming_content)
    path = tmp_path / "again.csv"
    path.write_bytes(body)
    outcome = csv_import.validate(tenant, path)
    assert (outcome.existing, outcome.invalid) == (1, 0)


def test_neutralise():
    assert csv_export.neutralise("=1") == "'=1"
    assert csv_export.neutralise("a=1") == "a=1"
    assert csv_export.neutralise("") == ""


# --- the parser under generated input ------------------------------------------------------

cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@given(
    header=st.lists(
        st.sampled_from(["username", "email", "tags", "comment", '"', "x"]), max_size=6
    ),
    body=st.lists(st.lists(cells, max_size=8), max_size=20),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    raw=st.binary(max_size=50),
)
def test_parser_reads_any_file_or_says_why(tenant, tmp_path, header, body, delimiter, raw):
    text = delimiter.join(header) + "\r\n" + "\r\n".join(delimiter.join(r) for r in body)
    path = tmp_path / "fuzz.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass") + raw)
    try:
        outcome = csv_import.validate(tenant, path)
    except csv_import.CsvFormatError:
        return
    assert outcome.valid + outcome.invalid == outcome.total
