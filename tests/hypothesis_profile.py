"""Hypothesis budgets: "ci" (default) keeps the suite fast, "bench" runs many more examples.

Choose with ``HYPOTHESIS_PROFILE=bench .venv/bin/pytest tests/...``.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "derandomize": True,
}
settings.register_profile("ci", max_examples=50, **_COMMON)
settings.register_profile("bench", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
