"""users.compiled: a lookup compiled once answers every later call with that call's values."""

import datetime as dt

import pytest
from django.utils import timezone

from enrollment.readiness import ready_tenant
from tests import factories
from users.compiled import CompiledRow, attnames, instances
from users.models import Tag

pytestmark = pytest.mark.django_db

_TENANT, _NAME = 987654321, "\x01name"
_tag_row = CompiledRow(
    lambda: Tag.objects.filter(tenant_id=_TENANT, name=_NAME).values_list(*attnames(Tag))[:1],
    tenant=(Tag._meta.get_field("tenant"), _TENANT),
    name=(Tag._meta.get_field("name"), _NAME),
)


def test_each_call_sends_its_own_values():
    one, other = factories.tenant(), factories.tenant()
    red, blue = factories.tag(one, name="red"), factories.tag(other, name="blue")
    assert _tag_row.row(tenant=one.pk, name="blue") is None
    (found,) = instances(_tag_row.row(tenant=other.pk, name="blue"), (Tag, attnames(Tag)))
    assert found == blue and found.name == "blue"
    assert _tag_row.row(tenant=one.pk, name="red")[0] == red.pk


def test_the_time_is_a_value_of_each_call_not_of_the_compilation():
    tenant = factories.tenant()
    certificate = factories.push_certificate(tenant)
    assert ready_tenant(tenant.number).push_topic == certificate.topic  # compiled here
    type(certificate).objects.filter(pk=certificate.pk).update(
        not_after=timezone.now() - dt.timedelta(seconds=1)
    )
    assert ready_tenant(tenant.number).push_topic is None
    assert ready_tenant(tenant.number + 1) is None


def test_the_web_login_lookup_ignores_case_but_takes_underscores_literally():
    from enrollment.web_login import find_user

    tenant = factories.tenant()
    user = factories.managed_user(tenant, username="a_b")
    assert find_user(tenant, "A_B") == user
    assert find_user(tenant, "axb") is None and find_user(tenant, "a%") is None
