"""What follows a finished enrollment (enrollment.lifecycle), called without a request."""

import datetime as dt

import pytest
from django.utils import timezone

from enrollment import lifecycle
from enrollment.models import EnrollmentSession, Invitation
from tests import factories
from users import statements

pytestmark = pytest.mark.django_db

State = EnrollmentSession.State


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


def test_profile_delivered_counts_fetches_until_the_session_is_bound_or_ended():
    user = factories.managed_user(factories.tenant())
    fresh = factories.enrollment_session(user, state=State.AUTHENTICATED)
    bound = factories.enrollment_session(user, state=State.CHECKED_IN, enrollment_id="E-1")
    ended = factories.enrollment_session(user, state=State.ENDED)
    info = {"product": "iPhone17,2", "os_version": "18.2.1"}

    assert lifecycle.profile_delivered(fresh, machine_info=info)
    assert lifecycle.profile_delivered(fresh, machine_info={"product": "iPhone17,3"})
    assert not lifecycle.profile_delivered(bound, machine_info=info)
    assert not lifecycle.profile_delivered(ended, machine_info=info)

    fresh.refresh_from_db(), bound.refresh_from_db(), ended.refresh_from_db()
    assert fresh.state == State.PROFILE_DELIVERED and fresh.profile_fetches == 2
    assert fresh.machine_info == {"product": "iPhone17,3"} and fresh.profile_delivered_at
    assert (bound.state, bound.profile_fetches, bound.machine_info) == (State.CHECKED_IN, 0, {})
    assert ended.state == State.ENDED and ended.profile_delivered_at is None


def test_checked_in_binds_one_enrollment_id_for_good():
    user = factories.managed_user(factories.tenant())
    session = factories.enrollment_session(user, state=State.PROFILE_DELIVERED)
    ended = factories.enrollment_session(user, state=State.ENDED)

    assert lifecycle.checked_in(session, "E-1")
    assert lifecycle.checked_in(session, "E-1")  # the same device again
    assert not lifecycle.checked_in(session, "E-2")
    assert not lifecycle.checked_in(ended, "E-3")

    session.refresh_from_db(), ended.refresh_from_db()
    assert (session.state, session.enrollment_id) == (State.CHECKED_IN, "E-1")
    assert (ended.state, ended.enrollment_id) == (State.ENDED, "")


def test_checked_in_as_part_of_a_statement_writes_what_checked_in_writes():
    user = factories.managed_user(factories.tenant())
    session = factories.enrollment_session(user, state=State.PROFILE_DELIVERED)
    other = factories.enrollment_session(user, state=State.CHECKED_IN, enrollment_id="E-9")

    statements.write_together(
        [lifecycle.checked_in_part(session, "E-1"), lifecycle.checked_in_part(other, "E-2")]
    )

    session.refresh_from_db(), other.refresh_from_db()
    assert (session.state, session.enrollment_id) == (State.CHECKED_IN, "E-1")
    assert (other.state, other.enrollment_id) == (State.CHECKED_IN, "E-9")
