"""In Chromium: add a user, import a CSV with one bad row, see the report."""

import pytest

from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_user_and_import_csv(browser_page, admin_user, tmp_path):
    page = browser_page
    browser_login(page, admin_user.username)
    page.wait_for_selector("text=Getting started")
    page.goto("/users/")
    page.click("text=Add user")
    page.fill("#id_username", "bob")
    page.fill("#id_first_name", "Bob")
    page.fill("#id_last_name", "Builder")
    page.fill("#id_email", "bob@contoso.example")
    page.fill("#id_managed_apple_id", "bob@contoso.appleid.com")
    page.fill("#id_tag_names", "sales")
    with page.expect_navigation():
        page.click("#user-form button[type=submit]")
    assert "bob@contoso.appleid.com" in page.inner_text("#user-table")

    csv = tmp_path / "users.csv"
    csv.write_text(
        "username;firstname;lastname;email;managed_apple_id;tags\n"
        "carol;Carol;C;carol@contoso.example;carol@contoso.appleid.com;it\n"
        "dave;Dave;D;not-an-address;;\n"
        "erin;Erin;E;erin@contoso.example;;it\n",
        encoding="utf-8",
    )
    page.click("text=Import CSV")
    page.set_input_files("#id_file", str(csv))
    with page.expect_navigation():
        page.click("#csv-upload-form button[type=submit]")
    page.wait_for_selector("#preview")
    assert "email is not a valid e-mail address" in page.inner_text("#problems")
    page.check("input[name=mode][value=skip]")
    with page.expect_navigation():
        page.click("#confirm-form button[type=submit]")
    page.wait_for_selector("#report")
    assert page.inner_text("#report-created") == "2"
    assert page.inner_text("#report-skipped") == "1"
    screenshot(page, "users-csv-import-report")
    page.goto("/users/")
    assert "carol" in page.inner_text("#user-table") and "dave" not in page.inner_text(
        "#user-table"
    )
