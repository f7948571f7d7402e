"""Demo data for enrollment: what the embedded default needs to enroll the simulator."""

from django.conf import settings

from apple.models import PushCertificate
from apple.push_identity import install_demo_push_certificate
from users.models import ManagedUser

from . import terms
from .addresses import local_address
from .models import Profile

DEMO_USER_PASSWORD = "enroll-demo-2026"  # noqa: S105 - printed on purpose; demo data only

DEMO_TERMS_EN = (
    "Demo terms of use.\n\nYour organisation manages only its own apps and data on this device. "
    "It cannot see your personal apps, photos, messages or browsing history."
)
DEMO_TERMS_DE = (
    "Demo-Nutzungsbedingungen.\n\nIhre Organisation verwaltet auf diesem Gerät nur ihre eigenen "
    "Apps und Daten. Persönliche Apps, Fotos, Nachrichten oder Ihren Browserverlauf sieht sie nicht."
)


def ensure_demo_enrollment(tenant) -> list[str]:
    if not PushCertificate.objects.filter(tenant=tenant).exclude(certificate_pem="").exists():
        install_demo_push_certificate(tenant)
    if not Profile.objects.filter(tenant=tenant, is_default=True).exists():
        Profile.objects.create(
            tenant=tenant,
            name="User registration profile",
            organization=tenant.name,
            description="Enrollment of personal iPhones and iPads (demo).",
            is_default=True,
        )
    if terms.current_terms(tenant) is None:
        terms.publish(tenant, text_en=DEMO_TERMS_EN, text_de=DEMO_TERMS_DE)
    user, created = ManagedUser.objects.get_or_create(
        tenant=tenant,
        username="demo.user",
        defaults={
            "first_name": "Demo",
            "last_name": "User",
            "email": "demo.user@example.com",
            "managed_apple_id": "demo.user@demo-organisation.appleid.com",
        },
    )
    if created or not user.has_enrollment_password:
        user.set_enrollment_password(DEMO_USER_PASSWORD)
        user.save()
    address = local_address(user)
    return [
        "Demo push certificate: self-made (Apple's push service will not accept it)",
        f"Demo managed user: {address} / {DEMO_USER_PASSWORD}",
        "Enroll a simulated iPhone (with `make run` serving):",
        f"  .venv/bin/python manage.py simulate_device {address} "
        f"--password {DEMO_USER_PASSWORD} --server {settings.PORTAL_BASE_URL}",
    ]
