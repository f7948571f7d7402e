"""The WSGI app of ``bench/enroll_devices.py``'s gunicorn workers: the portal with the bench's
counters. Each worker writes what it counted to ``$ENROLL_BENCH_STATS/<pid>.json`` on exit."""

import atexit
import json
import os
from pathlib import Path

from bench.enroll_devices import figures, instrumented_app

application, _passwords = instrumented_app()


@atexit.register
def _write_figures():
    path = Path(os.environ["ENROLL_BENCH_STATS"]) / f"{os.getpid()}.json"
    path.write_text(json.dumps(figures(application, _passwords)))
