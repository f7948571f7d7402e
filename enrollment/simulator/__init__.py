"""A simulated, user-enrolled iPhone: does over HTTP what a real device does (see ``device.py``).

Run it with ``python -m enrollment.simulator <address> --password …`` or
``python manage.py simulate_device <address> --password …``.
"""

from .device import EnrollmentFailed, SimulatedDevice

__all__ = ["EnrollmentFailed", "SimulatedDevice"]
