"""Settings of the benchmarks' servers: the portal's, plus a bare view (``bench/bare_urls.py``).

Only the benchmarks point ``DJANGO_SETTINGS_MODULE`` here; production URLs stay untouched.
"""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
