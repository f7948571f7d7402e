"""Prometheus metrics of the device side, exposed at /metrics (not public: see portal.metrics).

Counters live per process; run gunicorn and Celery with PROMETHEUS_MULTIPROC_DIR set to share
them (prometheus_client's multiprocess mode). Queue depth is read from the database per scrape.
"""

import contextlib

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

CHECKINS = Counter(
    "mdm_checkin_requests_total",
    "Device requests to /mdm/checkin and /mdm/connect by message type and answer status.",
    ["endpoint", "message_type", "status"],
)
COMMANDS = Counter(
    "mdm_command_answers_total",
    "Command answers by request type and status.",
    ["request_type", "status"],
)
PUSHES = Counter("mdm_pushes_total", "APNs pushes by result.", ["result"])
PUSH_SECONDS = Histogram(
    "mdm_push_batch_seconds",
    "Time to push one batch of devices over one APNs connection.",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60),
)


class QueueDepth(Collector):
    def describe(self):
        # Without describe(), registering would call collect() and query the database.
        return [GaugeMetricFamily("mdm_command_queue_depth", "", labels=["status"])]

    def collect(self):
        from django.db.models import Count

        from .models import Command

        gauge = GaugeMetricFamily(
            "mdm_command_queue_depth", "Commands not yet answered, by status.", labels=["status"]
        )
        counts = dict(
            Command.objects.filter(status__in=Command.OPEN)
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        for status in Command.OPEN:
            gauge.add_metric([status], counts.get(status, 0))
        yield gauge


_queue_depth = QueueDepth()


def register_queue_depth() -> None:
    with contextlib.suppress(ValueError):  # already registered
        REGISTRY.register(_queue_depth)
