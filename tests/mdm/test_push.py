"""Pushes through the real APNs client against the local HTTP/2 peer: every answer class,
certificate renewal, a batch cut short, and the sweep."""

import time

import pytest
from django.utils import timezone

from apple.apns import ApnsError
from apple.models import PushCertificate
from apple.push_identity import install_demo_push_certificate
from enrollment import terms
from mdm import device_labels, push, tasks
from mdm.models import Device
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, seconds=2.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def devices(tenant, n):
    return [factories.device(tenant) for _ in range(n)]


def test_owed_pushes_are_sent_and_cleared(tenant, apns_peer, django_capture_on_commit_callbacks):
    peer = apns_peer()
    batch = devices(tenant, 3)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.push_after_commit([d.pk for d in batch])
    assert wait_for(lambda: len(peer.requests) == 3)
    tokens = {r.token for r in peer.requests}
    assert tokens == {bytes(d.push_token).hex() for d in batch}
    assert all(
        r.body == f'{{"mdm":"{d.push_magic}"}}'.encode()
        for d in batch
        for r in peer.requests
        if r.token == bytes(d.push_token).hex()
    )
    assert not Device.objects.exclude(push_requested_at=None).exists()
    assert Device.objects.filter(last_push_at__isnull=False).count() == 3
    assert peer.connections == 1


def test_the_first_token_update_task_pushes_then_mails_the_terms(tenant, apns_peer, mailoutbox):
    peer = apns_peer()
    terms.publish(tenant, text_en="Be nice.")
    device = factories.device(tenant, push_requested_at=timezone.now())
    tasks.device_enrolled.delay(device.pk, device.session_id)
    assert [r.token for r in peer.requests] == [bytes(device.push_token).hex()]
    assert len(mailoutbox) == 1 and "/terms/" in mailoutbox[0].body


def test_the_terms_mail_does_not_wait_on_a_push_that_raises(
    tenant, apns_peer, settings, mailoutbox
):
    apns_peer()
    settings.APNS_BASE_URL = "http://127.0.0.1:9"  # unusable: the client raises ApnsError
    terms.publish(tenant, text_en="Be nice.")
    device = factories.device(tenant, push_requested_at=timezone.now())
    with pytest.raises(ApnsError):
        tasks.device_enrolled.delay(device.pk, device.session_id)
    assert len(mailoutbox) == 1


def test_bad_or_unregistered_tokens_make_the_device_unreachable(tenant, apns_peer):
    bad, gone, fine = devices(tenant, 3)
    peer = apns_peer(
        responses={
            bytes(bad.push_token).hex(): (400, "BadDeviceToken"),
            bytes(gone.push_token).hex(): (410, "Unregistered"),
        }
    )
    push.owe([bad.pk, gone.pk, fine.pk])
    report = push.send_owed([bad.pk, gone.pk, fine.pk])
    assert (report.ok, report.token_invalid) == (1, 2)
    for device in (bad, gone):
        device.refresh_from_db()
        assert device.push_state == Device.PushState.UNREACHABLE
        assert ("bad", "Unreachable") in [(c, str(t)) for c, t in device_labels.labels(device)]
    # No more pushes to them until a newer TokenUpdate.
    assert push.owe([bad.pk, gone.pk]) == []
    assert len(peer.requests) == 3


def test_a_refused_certificate_alerts_the_tenant_and_keeps_the_pushes_owed(
    tenant, apns_peer, admin_client
):
    peer = apns_peer(default=(403, "BadCertificate"))
    batch = devices(tenant, 4)
    push.owe([d.pk for d in batch])
    report = push.send_owed([d.pk for d in batch])
    assert report.certificate_refused == [tenant.pk] and report.ok == 0
    assert len(peer.requests) == 1  # the batch stops at the first refusal
    assert Device.objects.exclude(push_requested_at=None).count() == 4
    cert = PushCertificate.objects.get(tenant=tenant)
    assert cert.rejected_at and "BadCertificate" in cert.rejection_reason
    assert "refuses the push certificate" in admin_client.get("/").content.decode()
    assert (
        "refuses the push certificate"
        in admin_client.get("/mobile-security/settings/").content.decode()
    )


@pytest.mark.parametrize(
    "answer", [(429, "TooManyRequests"), (500, "InternalServerError"), (503, "ServiceUnavailable")]
)
def test_transient_answers_are_retried(tenant, apns_peer, answer):
    peer = apns_peer(default=answer, retry_after="2")
    batch = devices(tenant, 2)
    push.owe([d.pk for d in batch])
    report = push.send_owed([d.pk for d in batch])
    assert sorted(report.retry) == sorted(d.pk for d in batch)
    assert Device.objects.filter(push_attempts=1).count() == 2
    # Still owed; once APNs answers, the next run delivers them.
    peer.default = (200, "")
    assert push.send_owed(report.retry).ok == 2
    assert not Device.objects.exclude(push_requested_at=None).exists()


def test_a_batch_cut_short_loses_no_push(tenant, apns_peer):
    """A connection lost mid-batch (or a worker killed): what was not accepted stays owed and
    the next run finishes it."""
    peer = apns_peer(drop_after=5, drop_connections=1)
    batch = devices(tenant, 20)
    ids = [d.pk for d in batch]
    push.owe(ids)
    first = push.send_owed(ids)
    assert first.ok + len(first.retry) == 20
    again = push.send_owed(ids)
    assert first.ok + again.ok == 20
    assert not Device.objects.exclude(push_requested_at=None).exists()
    assert {r.token for r in peer.requests} >= {bytes(d.push_token).hex() for d in batch}


def test_a_renewed_certificate_is_used_for_the_next_push_without_restart(
    tenant, apns_peer, push_certificate
):
    old_pem = push_certificate.certificate_pem.encode()
    peer = apns_peer()
    first, second = devices(tenant, 2)
    push.owe([first.pk])
    assert push.send_owed([first.pk]).ok == 1
    renewed = install_demo_push_certificate(tenant)  # same row, new key and certificate
    peer.trust(renewed.certificate_pem.encode())
    push.owe([second.pk])
    assert push.send_owed([second.pk]).ok == 1
    fingerprints = [r.fingerprint for r in peer.requests]
    assert len(set(fingerprints)) == 2 and peer.connections == 2
    assert old_pem != renewed.certificate_pem.encode()


def test_the_sweep_pushes_owed_waiting_and_silent_devices(tenant, apns_peer, settings):
    peer = apns_peer()
    settings.MDM_PUSH_SWEEP_AFTER_SECONDS = 60
    long_ago = timezone.now() - timezone.timedelta(days=2)
    owed, waiting, silent, fresh = devices(tenant, 4)
    Device.objects.filter(pk=owed.pk).update(push_requested_at=long_ago)
    factories.command(waiting, "ProfileList")
    from mdm.models import Command

    Command.objects.filter(device=waiting).update(created_at=long_ago)
    Device.objects.filter(pk=waiting.pk).update(last_seen_at=long_ago - timezone.timedelta(hours=1))
    Device.objects.filter(pk=silent.pk).update(last_seen_at=long_ago)
    Device.objects.filter(pk=fresh.pk).update(last_seen_at=timezone.now())
    assert tasks.sweep_pushes() == 3
    assert wait_for(lambda: len(peer.requests) == 3)
    assert {r.token for r in peer.requests} == {
        bytes(d.push_token).hex() for d in (owed, waiting, silent)
    }


def test_the_owed_lookup_is_the_pushable_queryset(tenant):
    """push.owed_devices is SQL for speed; it must pick what the ORM's definition picks."""
    now = timezone.now()
    variants = [
        {},
        {"status": Device.Status.REMOVING},
        {"status": Device.Status.UNENROLLED},
        {"status": Device.Status.AUTHENTICATED},
        {"push_state": Device.PushState.UNREACHABLE},
        {"push_magic": ""},
        {"push_requested_at": None},
    ]
    made = [
        factories.device(tenant, **({"push_requested_at": now} | fields)) for fields in variants
    ]
    other = factories.device(factories.tenant(), push_requested_at=now)
    ids = [d.pk for d in made] + [other.pk, 987654]
    expected = list(
        push._pushable()
        .filter(pk__in=ids)
        .exclude(push_requested_at=None)
        .order_by("tenant_id", "pk")
        .values_list("pk", "tenant_id", "push_token", "push_magic")
    )
    got = [(d.pk, d.tenant_id, bytes(d.push_token), d.push_magic) for d in push.owed_devices(ids)]
    assert got == [(pk, t, bytes(token), magic) for pk, t, token, magic in expected]
    assert [pk for pk, *_ in expected] == [made[0].pk, made[1].pk, other.pk]
    assert push.owed_devices([]) == []
