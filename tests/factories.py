"""Test data as factories: tenants, users, devices, commands and push certificates, in the
database, without the TLS server. Protocol data comes from real captures instead."""

import itertools
import secrets
import uuid

from django.utils import timezone

_numbers = itertools.count(700000)


def tenant(**fields):
    from users.models import Tenant

    number = next(_numbers)
    return Tenant.objects.create(**{"name": f"Tenant {number}", "number": number, **fields})


def managed_user(tenant, **fields):
    from users.models import ManagedUser

    name = fields.pop("username", f"user{uuid.uuid4().hex[:8]}")
    return ManagedUser.objects.create(
        **{
            "tenant": tenant,
            "username": name,
            "email": f"{name}@example.com",
            "managed_apple_id": f"{name}@example.appleid.com",
            **fields,
        }
    )


def enrollment_session(user, **fields):
    from enrollment.models import EnrollmentSession

    raw = EnrollmentSession.new_token()
    session = EnrollmentSession.objects.create(
        **{
            "tenant": user.tenant,
            "user": user,
            "token_hash": EnrollmentSession.hash_token(raw),
            "expires_at": timezone.now() + timezone.timedelta(hours=1),
            "state": EnrollmentSession.State.CHECKED_IN,
            **fields,
        }
    )
    session.raw_token = raw
    return session


def device(tenant, *, user=None, **fields):
    """An enrolled device with a push token, terms accepted unless said otherwise."""
    from mdm.models import Device

    user = user or managed_user(tenant)
    session = fields.pop("session", None) or enrollment_session(user)
    enrollment_id = fields.pop("enrollment_id", str(uuid.uuid4()).upper())
    session.enrollment_id = enrollment_id
    session.save(update_fields=["enrollment_id"])
    values = {
        "tenant": tenant,
        "user": user,
        "session": session,
        "enrollment_id": enrollment_id,
        "identity_fingerprint": secrets.token_hex(32),
        "status": Device.Status.ENROLLED,
        "push_token": secrets.token_bytes(32),
        "push_magic": str(uuid.uuid4()).upper(),
        "topic": "com.apple.mgmt.External.test",
        "terms_accepted": True,
        "enrolled_at": timezone.now(),
        "inventory_requested_at": timezone.now(),  # no inventory due unless a test says so
        "config_due": False,  # nor configuration
        **fields,
    }
    return Device.objects.create(**values)


def command(device, request_type="DeviceInformation", arguments=None, **fields):
    from mdm import queue

    created = queue.enqueue_request(device, request_type, arguments)
    if fields:
        type(created).objects.filter(pk=created.pk).update(**fields)
        created.refresh_from_db()
    return created


def push_certificate(tenant, **fields):
    from apple.push_identity import install_demo_push_certificate

    cert = install_demo_push_certificate(tenant)
    if fields:
        type(cert).objects.filter(pk=cert.pk).update(**fields)
        cert.refresh_from_db()
    return cert


def device_identity(device):
    """An identity certificate for ``device`` issued by its tenant's CA (as SCEP would), pinned
    to the device; returns (certificate, key)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from enrollment.scep import services as scep
    from mdm.device_auth import fingerprint

    ca_cert, ca_key = scep._ca(device.tenant)
    key = ec.generate_private_key(ec.SECP256R1())
    now = timezone.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, str(device.tenant.number)),
                    x509.NameAttribute(NameOID.COMMON_NAME, device.session.subject_cn),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(ca_key, hashes.SHA256())
    )
    type(device).objects.filter(pk=device.pk).update(identity_fingerprint=fingerprint(certificate))
    device.identity_fingerprint = fingerprint(certificate)
    return certificate, key


def configuration_profile(tenant, *, payloads=(), tags=(), **fields):
    """A configuration profile; ``payloads`` are (payload type, values) pairs."""
    from enrollment import configuration_profiles

    return configuration_profiles.create_profile(
        tenant, tags=tags, payloads=payloads, **{"name": "Office", **fields}
    )


def vpp_token(tenant, *, fake=None, **fields):
    """An Apps and Books token; with ``fake`` (tests.apple.fakes.FakeVpp) one the fake accepts."""
    import hashlib

    from apple.models import VppToken
    from tests.apple.fakes import token_file

    text = token_file().decode()
    if fake is not None:
        fake.accept(text.encode())
    return VppToken.objects.create(
        **{
            "tenant": tenant,
            "token": text,
            "token_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "org_name": "Contoso Ltd",
            "expires_at": timezone.now() + timezone.timedelta(days=300),
            **fields,
        }
    )


def vpp_asset(token, adam_id="361304891", **fields):
    from apple.models import VppAsset

    return VppAsset.objects.create(
        **{
            "tenant_id": token.tenant_id,
            "token": token,
            "adam_id": adam_id,
            "pricing_param": "STDQ",
            "product_type": "App",
            "total_count": 10,
            "available_count": 10,
            **fields,
        }
    )


def app(tenant, *, asset=None, **fields):
    """A catalogue app (of ``asset`` when given)."""
    from mdm.models import App

    adam_id = fields.pop("adam_id", asset.adam_id if asset else str(next(_numbers)))
    return App.objects.create(
        **{
            "tenant": tenant,
            "adam_id": adam_id,
            "asset": asset,
            "name": f"App {adam_id}",
            "bundle_id": f"com.example.app{adam_id}",
            **fields,
        }
    )


def synced_asset(tenant, adam_id=None, *, total=10, assigned=0, **fields):
    """A synced Apps and Books asset with these licence counts (the tenant's token is made on
    first use)."""
    import hashlib

    from apple.models import VppToken

    token = VppToken.objects.filter(tenant=tenant).first() or vpp_token(
        tenant, token_sha256=hashlib.sha256(f"token-{tenant.pk}".encode()).hexdigest()
    )
    return vpp_asset(
        token,
        adam_id or str(next(_numbers) * 1000),
        total_count=total,
        assigned_count=assigned,
        available_count=total - assigned,
        supported_platforms=["iOS", "iPadOS"],
        **fields,
    )


def catalogue_app(tenant, *, asset=None, tags=(), **fields):
    """An app of the tenant's catalogue with its tags, with a synced asset unless one is given."""
    created = app(
        tenant,
        asset=asset or synced_asset(tenant),
        **{"version": "1.0", "platforms": ["iOS"], **fields},
    )
    created.tags.set(tags)
    return created


def tag(tenant, name=None, **fields):
    from users.models import Tag

    return Tag.objects.create(tenant=tenant, name=name or f"tag{uuid.uuid4().hex[:6]}", **fields)
