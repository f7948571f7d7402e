"""Resellers switch between their tenants; read-only accounts cannot change anything."""

from django.urls import reverse

from users.models import ApiToken, AuditEvent


def test_reseller_starts_in_a_tenant_and_switches(reseller_client, tenant, other_tenant):
    page = reseller_client.get(reverse("portal:dashboard"))
    assert page.context["acting_tenant"] == tenant  # first by name: Contoso
    assert b"Fabrikam (654321)" in page.content  # offered in the switcher

    response = reseller_client.post(reverse("portal:switch-tenant"), {"tenant": other_tenant.pk})
    assert response.status_code == 302
    page = reseller_client.get(reverse("portal:dashboard"))
    assert page.context["acting_tenant"] == other_tenant
    assert AuditEvent.objects.filter(action="account.switch_tenant", tenant=other_tenant).exists()


def test_reseller_cannot_switch_to_a_tenant_not_assigned(reseller_client, db):
    from users.models import Tenant

    foreign = Tenant.objects.create(name="Northwind", number=777777)
    response = reseller_client.post(reverse("portal:switch-tenant"), {"tenant": foreign.pk})
    assert response.status_code == 404


def test_tenant_admin_cannot_switch(admin_client, other_tenant):
    response = admin_client.post(reverse("portal:switch-tenant"), {"tenant": other_tenant.pk})
    assert response.status_code == 404


def test_switch_ignores_foreign_next(reseller_client, other_tenant):
    response = reseller_client.post(
        reverse("portal:switch-tenant"),
        {"tenant": other_tenant.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("portal:dashboard")


def test_read_only_can_read_but_not_write(readonly_client):
    assert readonly_client.get(reverse("portal:dashboard")).status_code == 200
    assert readonly_client.post(reverse("portal:api-tokens"), {"name": "x"}).status_code == 403


def test_api_token_is_stored_hashed_and_shown_once(admin_client, admin_user):
    response = admin_client.post(reverse("portal:api-tokens"), {"name": "deploy script"})
    raw = response.context["new_token"]
    token = ApiToken.objects.get(account=admin_user)
    assert raw not in (token.digest, token.prefix) and token.digest == ApiToken.hash(raw)
    assert raw.encode() not in admin_client.get(reverse("portal:api-tokens")).content


def test_api_acts_for_the_token_tenant(api_client, tenant):
    response = api_client.get("/api/tenant/")
    assert response.status_code == 200
    assert response.json()["number"] == tenant.number


def test_api_rejects_missing_and_bad_tokens(client, db):
    from rest_framework.test import APIClient

    assert client.get("/api/tenant/").status_code in (401, 403)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer mdm_not-a-token")
    assert bad.get("/api/tenant/").status_code == 401


def test_api_read_only_token_cannot_write(readonly_user):
    from rest_framework.test import APIClient

    _, raw = ApiToken.issue(readonly_user, readonly_user.tenant, "ro")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/audit-events/").status_code == 200
    assert client.post("/api/audit-events/", {}, format="json").status_code == 403


def test_openapi_schema_and_docs(admin_client):
    schema = admin_client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    assert admin_client.get("/api/docs/").status_code == 200


def test_healthz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
