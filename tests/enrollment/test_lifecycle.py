"""What follows a finished enrollment (enrollment.lifecycle), called without a request."""

import datetime as dt

import pytest
from django.utils import timezone

from enrollment import lifecycle
from enrollment.models import Invitation
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_users_open_invitations_are_marked_enrolled_and_no_others():
    tenant = factories.tenant()
    user, other = factories.managed_user(tenant), factories.managed_user(tenant)
    earlier = timezone.now() - dt.timedelta(days=3)
    open_one = Invitation.objects.create(tenant=tenant, user=user)
    done = Invitation.objects.create(tenant=tenant, user=user, enrolled_at=earlier)
    others = Invitation.objects.create(tenant=tenant, user=other)
    session = factories.enrollment_session(user)

    lifecycle.enrollment_completed(session.pk)

    open_one.refresh_from_db(), done.refresh_from_db(), others.refresh_from_db()
    assert open_one.enrolled_at is not None and open_one.enrolled_at > earlier
    assert done.enrolled_at == earlier and others.enrolled_at is None
