"""Desired configuration (mdm.desired): what marks devices due and when reconciliation runs."""

import pytest

from mdm import desired
from mdm.models import Device
from tests import factories
from tests.mdm.conftest import Poller
from users.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    """A registered source that records the devices it was asked to reconcile."""
    seen = []
    monkeypatch.setattr(desired, "_SOURCES", [lambda device, now: seen.append(device.pk)])
    return seen


def _due(device) -> bool:
    device.refresh_from_db()
    return device.config_due


def test_user_and_device_tags_mark_their_devices_due(tenant):
    user = factories.managed_user(tenant)
    mine, other = factories.device(tenant, user=user), factories.device(tenant)
    tag = Tag.objects.create(tenant=tenant, name="Sales")
    user.tags.add(tag)
    assert _due(mine) and not _due(other)
    Device.objects.filter(pk=mine.pk).update(config_due=False)
    other.tags.add(tag)
    assert _due(other) and not _due(mine)
    Device.objects.update(config_due=False)
    tag.users.clear()
    assert _due(mine) and not _due(other)
    Device.objects.update(config_due=False)
    tag.delete()
    assert _due(other)


def test_csv_import_that_rewrites_tags_marks_devices_due(tenant, tmp_path):
    from users.imports import csv_import

    user = factories.managed_user(tenant, username="alice")
    mine = factories.device(tenant, user=user)
    path = tmp_path / "users.csv"
    path.write_text("username,email,tags\nalice,alice@example.com,Sales\n", encoding="utf-8")
    csv_import.run(tenant, path, all_or_nothing=False)
    assert _due(mine)


def test_idle_reconciles_once_and_only_after_the_terms(tenant, calls):
    device = factories.device(tenant, config_due=True, terms_accepted=False)
    poller = Poller(device)
    poller.report()
    assert calls == [] and _due(device)  # held back until the terms are accepted
    Device.objects.filter(pk=device.pk).update(terms_accepted=True)
    poller.report()
    poller.report()
    assert calls == [device.pk] and not _due(device)


def test_removed_devices_are_not_marked(tenant):
    device = factories.device(tenant, status=Device.Status.UNENROLLED)
    assert desired.mark_changed([device.pk]) == []
    assert not _due(device)
