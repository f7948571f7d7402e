"""Isolation cases of the apps, tags and self-service pages (mdm)."""


def _app(tenant):
    from tests import factories

    return factories.catalogue_app(tenant)


def _tag(tenant):
    from tests import factories

    return factories.tag(tenant)


def _device(tenant):
    from tests import factories

    return factories.device(tenant)


def by_pk(obj):
    return {"pk": obj.pk}


CASES = {
    "mdm:app": (_app, by_pk),
    "mdm:app-edit": (_app, by_pk),
    "mdm:tag": (_tag, by_pk),
    "mdm:tag-edit": (_tag, by_pk),
    "mdm:tag-delete": (_tag, by_pk),
    "mdm:device-assign": (_device, by_pk),
}

# The self-service pages are the end user's, signed in by their own password (tests/mdm/
# test_selfservice.py covers another tenant's session).
NOT_ADMIN_OBJECT_URLS = {
    "enduser-apps:index",
    "enduser-apps:login",
    "enduser-apps:logout",
    "enduser-apps:install",
}
