"""Isolation cases of the apps API (catalogue apps, tags and members, licences, installs)."""


def _app(tenant):
    from tests import factories

    return factories.app(tenant)


def _tag(tenant):
    import uuid

    from users.models import Tag

    return Tag.objects.create(tenant=tenant, name=f"iso-{uuid.uuid4().hex[:8]}")


def _licence(tenant):
    from mdm.models import Licence
    from tests import factories

    return Licence.objects.create(
        tenant=tenant, app=factories.app(tenant), user=factories.managed_user(tenant)
    )


def _installation(tenant):
    from mdm.models import AppInstallation
    from tests import factories

    return AppInstallation.objects.create(
        tenant=tenant, app=factories.app(tenant), device=factories.device(tenant)
    )


def by_pk(obj):
    return {"pk": obj.pk}


CASES = {
    "app-detail": (_app, by_pk),
    "tag-detail": (_tag, by_pk),
    "tag-members": (_tag, by_pk),
    "tag-remove-members": (_tag, by_pk),
    "licence-detail": (_licence, by_pk),
    "appinstallation-detail": (_installation, by_pk),
}
