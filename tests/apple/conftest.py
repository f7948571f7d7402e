import pytest

from tests.apple.fakes import FakeVpp


@pytest.fixture
def fake_vpp(settings):
    fake = FakeVpp().start()
    settings.VPP_BASE_URL = fake.url
    settings.VPP_METADATA_BASE_URL = fake.metadata_url
    yield fake
    fake.stop()
