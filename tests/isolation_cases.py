"""Every object URL (a URL pattern with an object key), and how to make its object.

``tests/test_tenant_isolation.py`` walks the URL resolver and fails for any object URL
that has no entry here, then checks that another tenant's admin gets 404 for each.

An entry: url name -> (factory, kwargs builder). The factory takes the owning tenant and
returns the object; the builder takes the object and returns the URL kwargs. Factories
import lazily so the table can be read before Django is set up.
"""


def _audit_event(tenant):
    from users.audit import record

    return record("tests", "tests.created", tenant=tenant)


def by_pk(obj):
    return {"pk": obj.pk}


# UI and API object URLs; API names are the DRF router's "<basename>-detail".
CASES = {
    "portal:audit-detail": (_audit_event, by_pk),
    "auditevent-detail": (_audit_event, by_pk),
}

# Object URLs that are not tenant objects admins reach (device and end-user URLs are
# authenticated by their own protocol and tested in their areas).
NOT_ADMIN_OBJECT_URLS = {
    "enduser-users:set-password",
}


def _merge_area_modules():
    import importlib
    import pkgutil

    from tests import isolation

    for info in pkgutil.iter_modules(isolation.__path__):
        module = importlib.import_module(f"tests.isolation.{info.name}")
        CASES.update(getattr(module, "CASES", {}))
        NOT_ADMIN_OBJECT_URLS.update(getattr(module, "NOT_ADMIN_OBJECT_URLS", set()))


_merge_area_modules()
