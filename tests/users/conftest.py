import pytest

from tests.users.fakes import SECRET, FakeGraph


@pytest.fixture
def graph(settings):
    fake = FakeGraph()
    settings.GRAPH_BASE_URL = settings.GRAPH_LOGIN_BASE_URL = fake.base
    yield fake
    fake.stop()


@pytest.fixture
def connection(tenant, graph):
    from users.imports.models import EntraConnection

    return EntraConnection.objects.create(
        tenant=tenant,
        directory_id="contoso.onmicrosoft.com",
        client_id="app-id",
        client_secret=SECRET,
    )


@pytest.fixture
def enrolled_device_user(managed_user, live_tls_server):
    """The managed user with one device enrolled through the simulator."""
    from apple.push_identity import install_demo_push_certificate
    from enrollment.addresses import local_address
    from enrollment.models import Profile
    from enrollment.simulator import SimulatedDevice
    from tests.conftest import TEST_PASSWORD

    install_demo_push_certificate(managed_user.tenant)
    Profile.objects.create(tenant=managed_user.tenant, name="BYOD", is_default=True)
    device = SimulatedDevice(
        local_address(managed_user),
        TEST_PASSWORD,
        server=live_tls_server.url,
        verify=live_tls_server.ca_path,
    )
    device.enroll()
    device.close()
    return managed_user
