"""Another tenant's admin gets 404 for every object URL of a tenant, in the UI and the API.

The test walks the whole URL configuration, so an object URL added later without an entry in
``tests/isolation_cases.py`` makes it fail.
"""

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.isolation_cases import CASES, NOT_ADMIN_OBJECT_URLS


def _object_url_names(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            prefix = f"{namespace}{ns}:" if ns else namespace
            yield from _object_url_names(entry.url_patterns, prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            params = set(entry.pattern.regex.groupindex) - {"format"}
            if params:
                yield f"{namespace}{entry.name}"


def test_every_object_url_has_an_isolation_case():
    missing = sorted(set(_object_url_names()) - set(CASES) - NOT_ADMIN_OBJECT_URLS)
    assert not missing, f"object URLs without a case in tests/isolation_cases.py: {missing}"


def _status(client, method, url, api):
    if api:
        return getattr(client, method)(url, format="json").status_code
    return getattr(client, method)(url).status_code


def test_other_tenant_gets_404_everywhere(
    tenant, admin_client, other_admin_client, api_client, other_api_client
):
    failures = []
    for name, (factory, kwargs_for) in CASES.items():
        obj = factory(tenant)
        url = reverse(name, kwargs=kwargs_for(obj))
        api = ":" not in name
        owner, stranger = (
            (api_client, other_api_client) if api else (admin_client, other_admin_client)
        )
        method = "get"
        if _status(owner, "head" if not api else "get", url, api) == 405:
            method = "post"
        got = _status(stranger, method, url, api)
        if got != 404:
            failures.append(f"{name} {method.upper()} {url}: stranger got {got}")
        for write in ("post", "put", "patch", "delete") if api else ("post",):
            got = _status(stranger, write, url, api)
            if got not in (404, 405):
                failures.append(f"{name} {write.upper()} {url}: stranger got {got}")
        if _status(owner, method, url, api) == 404:
            failures.append(f"{name} {method.upper()} {url}: the owner got 404 too")
    assert not failures, "\n".join(failures)
