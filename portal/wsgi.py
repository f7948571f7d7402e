import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# What start-up built (modules, models, settings: ~140,000 objects) lives as long as the worker:
# frozen out of the collector's generations, full collections no longer walk it (measured with
# bench/enroll_devices.py: a worker's collections took ~2 ms per enrollment, ~0.9 ms frozen).
gc.collect()
gc.freeze()
