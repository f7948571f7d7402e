"""Portal-wide state that belongs to no tenant."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """Last time each Celery worker ran the heartbeat task (shown to resellers)."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.hostname} @ {self.seen_at:%H:%M:%S}"
