"""The API answers as its OpenAPI schema says: schemathesis generates requests for every
operation from /api/schema/ and checks each response (no 500, status codes, content types,
headers and bodies as documented), signed in with a tenant admin's API token.

Bounded for CI (``SCHEMATHESIS_MAX_EXAMPLES``, default 10 per operation); more in a benchmark run.
"""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from tests.conftest import make_account

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))


# Built from the generator (what /api/schema/ serves), at import: pytest-django has set up
# Django by then, and no database is needed for it.
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """schemathesis calls the WSGI app directly, and Django closes the database connection at
    the end of every request; the test's transaction lives on that connection (PostgreSQL), so
    keep it open the way Django's test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, tenant):
    from apple.push_identity import install_demo_push_certificate
    from users.models import ApiToken, ManagedUser

    admin = make_account("schema-admin", tenant=tenant)
    ManagedUser.objects.create(tenant=tenant, username="alice", email="alice@contoso.example")
    install_demo_push_certificate(tenant)
    return ApiToken.issue(admin, tenant, "schemathesis")[1]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, token, settings):
    settings.ALLOWED_HOSTS = ["*"]
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(
        response,
        headers={"Authorization": f"Bearer {token}"},
        # Business rules beyond the schema (file contents, an existing user, a configured
        # Entra ID connection) refuse some schema-valid bodies with a documented 400.
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
