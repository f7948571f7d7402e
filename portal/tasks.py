"""Portal-wide periodic tasks."""

import socket

from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat


@shared_task(acks_late=True)
def heartbeat(hostname: str | None = None) -> str:
    """Record that a worker is alive; the dashboard shows workers seen recently."""
    name = hostname or socket.gethostname()
    WorkerHeartbeat.objects.update_or_create(hostname=name, defaults={"seen_at": timezone.now()})
    return name
