"""The enrollment web login throttle counts the user the lookup resolves: other domains,
case and full-width spellings of one user are locked together with the canonical address."""

import pytest

from enrollment import web_login
from tests.conftest import TEST_PASSWORD

ENROLL_LOGIN = "/enroll/t/123456/login"


def enroll_post(client, identifier, password="wrong"):
    return client.post(ENROLL_LOGIN, {"identifier": identifier, "password": password})


@pytest.mark.parametrize(
    "variant",
    [
        "alice-123456@anything.example",
        "ALICE-123456@localhost",
        "alice",
        " Alice ",
        "ａｌｉｃｅ",
    ],
)
def test_enrollment_login_variants_are_locked_with_the_canonical_user(client, address, variant):
    for _ in range(web_login.per_identifier.limit):
        assert enroll_post(client, variant).status_code == 401
    for identifier in ("alice-123456@localhost", "alice", "alice-123456@other.domain"):
        assert enroll_post(client, identifier, TEST_PASSWORD).status_code == 429
