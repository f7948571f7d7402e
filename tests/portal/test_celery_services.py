"""A real Celery worker executes a task through Redis; its effect is read back from PostgreSQL."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal.celery import app as celery_app
from portal.models import WorkerHeartbeat

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.services


@pytest.fixture
def celery_worker_process(transactional_db, redis_url, settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("DATABASE_URL does not point at PostgreSQL; this test needs the real server")
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["REDIS_URL"] = redis_url
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"pytest-{os.getpid()}@%h",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_worker_runs_task_through_redis_on_postgres(celery_worker_process):
    from portal.tasks import heartbeat

    result = heartbeat.delay("ci-probe-host")
    try:
        assert result.get(timeout=60) == "ci-probe-host"
    except Exception:
        celery_worker_process.terminate()
        print(celery_worker_process.stdout.read())
        raise
    # The worker wrote through its own connection; read it back from PostgreSQL.
    deadline = time.time() + 5
    while not WorkerHeartbeat.objects.filter(hostname="ci-probe-host").exists():
        assert time.time() < deadline, "the worker's row never appeared in PostgreSQL"
        time.sleep(0.1)
