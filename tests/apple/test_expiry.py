"""Status of credentials and the expiry mails (30, 14, 7, 1 days; once per threshold)."""

import datetime as dt

import pytest
from django.utils import timezone

from apple import expiry, expiry_mails
from apple.models import PushCertificate
from apple.push_identity import install_demo_push_certificate


def test_status_codes():
    now = timezone.now()
    assert expiry.status(None).code == "missing"
    assert expiry.status(now - dt.timedelta(seconds=1)).code == "expired"
    assert expiry.status(now + dt.timedelta(days=30)).code == "expiring"
    assert expiry.status(now + dt.timedelta(days=31)).code == "valid"
    assert expiry.status(now + dt.timedelta(days=3, hours=1), now).days_left == 4


@pytest.fixture
def certificate(tenant, admin_user, reseller_user):
    admin_user.email, reseller_user.email = "admin@contoso.example", "reseller@example.com"
    admin_user.save()
    reseller_user.save()
    row = install_demo_push_certificate(tenant)
    row.is_demo = False
    row.save()
    return row


def test_mails_once_per_threshold(certificate, mailoutbox):
    expires = certificate.not_after
    for days_before, mails in [
        (40, 0),
        (30, 1),
        (29, 1),
        (14, 2),
        (13, 2),
        (7, 3),
        (1, 4),
        (0.5, 4),
    ]:
        expiry_mails.warn_push_certificates(now=expires - dt.timedelta(days=days_before))
        assert len(mailoutbox) == mails, days_before
    assert set(mailoutbox[0].to) == {"admin@contoso.example", "reseller@example.com"}
    assert "same Apple ID" in mailoutbox[0].body
    assert "30 days" in mailoutbox[0].subject


def test_a_late_start_sends_only_the_nearest_threshold(certificate, mailoutbox):
    expiry_mails.warn_push_certificates(now=certificate.not_after - dt.timedelta(days=5))
    expiry_mails.warn_push_certificates(now=certificate.not_after - dt.timedelta(days=4))
    assert len(mailoutbox) == 1
    assert PushCertificate.objects.get().warnings_sent == [30, 14, 7]


def test_dashboard_and_settings_banners(admin_client, tenant):
    page = admin_client.get("/").content.decode()
    assert 'id="push-banner"' in page and "No Apple push certificate" in page
    row = install_demo_push_certificate(tenant, days=10)
    page = admin_client.get("/").content.decode()
    assert "expires in 10 days" in page and "demo certificate" in page
    row.not_after = timezone.now() - dt.timedelta(days=1)
    row.save()
    assert "has expired" in admin_client.get("/mobile-security/settings/").content.decode()


def test_beat_tasks_run(certificate, mailoutbox):
    from apple.tasks import check_vpp_tokens, warn_expiring_push_certificates

    assert warn_expiring_push_certificates.delay().get() == 0
    assert check_vpp_tokens.delay().get() == 0


def test_reenrollment_switch(admin_client, tenant):
    admin_client.post(
        "/mobile-security/settings/reenrollment/", {"apple_reenrollment_enabled": "on"}
    )
    tenant.refresh_from_db()
    assert tenant.apple_reenrollment_enabled
    admin_client.post("/mobile-security/settings/reenrollment/", {})
    tenant.refresh_from_db()
    assert not tenant.apple_reenrollment_enabled
