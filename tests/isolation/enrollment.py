"""Isolation cases of enrollment and mdm (profiles, invitations, devices)."""


def _profile(tenant):
    from enrollment.models import Profile

    return Profile.objects.create(tenant=tenant, name="Isolation profile")


def _user(tenant):
    import uuid

    from users.models import ManagedUser

    return ManagedUser.objects.create(
        tenant=tenant,
        username=f"iso{uuid.uuid4().hex[:8]}",
        managed_apple_id="iso@x.appleid.com",
        email="iso@x.example",
    )


def _invitation(tenant):
    from enrollment.models import Invitation

    return Invitation.objects.create(tenant=tenant, user=_user(tenant))


def _device(tenant):
    import uuid

    from mdm.models import Device

    return Device.objects.create(
        tenant=tenant, enrollment_id=f"ISO-{uuid.uuid4()}", identity_fingerprint="0" * 64
    )


def by_pk(obj):
    return {"pk": obj.pk}


def _configuration_profile(tenant):
    from tests import factories

    return factories.configuration_profile(
        tenant, payloads=[("com.apple.wifi.managed", {"SSID_STR": "Isolation"})]
    )


CASES = {
    "enrollment:profile-edit": (_profile, by_pk),
    "enrollment:profile-delete": (_profile, by_pk),
    "profile-detail": (_profile, by_pk),
    "enrollment:configuration-edit": (_configuration_profile, by_pk),
    "configuration-profile-detail": (_configuration_profile, by_pk),
    "invitation-detail": (_invitation, by_pk),
    "invitation-resend": (_invitation, by_pk),
    "invitations:resend": (_invitation, by_pk),
    "enrollment-address-detail": (_user, by_pk),
    "mdm:device": (_device, by_pk),
    "mdm:device-remove": (_device, by_pk),
    "device-detail": (_device, by_pk),
}

# Device and end-user URLs, authenticated by their own protocol (tested in tests/enrollment).
NOT_ADMIN_OBJECT_URLS = {
    "enrollment-device:enroll",
    "enduser-enrollment:login",
    "enduser-enrollment:terms",
    "enduser-enrollment:invitation",
}

CASES.update(
    {
        "mdm:device-refresh": (_device, by_pk),
        "mdm:device-command": (_device, by_pk),
        "device-commands": (_device, by_pk),
        "device-refresh-inventory": (_device, by_pk),
    }
)
