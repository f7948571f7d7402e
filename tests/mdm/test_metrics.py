"""/metrics: counters of check-ins, command answers and pushes, queue depth; not public."""

import pytest

from tests import factories
from tests.mdm.conftest import Poller

pytestmark = pytest.mark.django_db


def test_metrics_need_the_token_or_an_allowed_address(client, settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert client.get("/metrics").status_code == 200


def test_metrics_count_answers_and_queue_depth(client, tenant, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    device = factories.device(tenant)
    factories.command(device, "ProfileList")
    factories.command(device, "SecurityInfo")
    poller = Poller(device)
    poller.answer(poller.report(), ProfileList=[])
    text = client.get("/metrics").content.decode()
    assert 'mdm_command_queue_depth{status="sent"} 1.0' in text  # SecurityInfo handed out
    assert 'mdm_command_answers_total{request_type="ProfileList",status="acknowledged"}' in text
    assert "mdm_pushes_total" in text and "mdm_checkin_requests_total" in text
