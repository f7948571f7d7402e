from enrollment.addresses import local_address, parse_address


def test_address_is_username_dash_tenant_at_portal_host(managed_user, settings):
    settings.PORTAL_BASE_URL = "https://Portal.Example.com:8443"
    assert local_address(managed_user) == "alice-123456@portal.example.com"


def test_address_is_stable_and_lower_case(managed_user):
    managed_user.username = "Alice.Smith"
    assert local_address(managed_user) == local_address(managed_user)
    assert local_address(managed_user).startswith("alice.smith-123456@")


def test_parse_splits_at_last_at_and_last_dash():
    parsed = parse_address("Alice.Smith-123456@Portal.Example.com")
    assert (parsed.username, parsed.tenant_number, parsed.domain) == (
        "alice.smith",
        123456,
        "portal.example.com",
    )


def test_parse_rejects_what_is_not_a_local_address():
    for value in [
        "",
        "alice@x",
        "alice-12@x",
        "-123456@x",
        "alice-123456@",
        "a b-123456@x",
        "alice-123456",
        "al!ce-123456@x",
    ]:
        assert parse_address(value) is None, value
