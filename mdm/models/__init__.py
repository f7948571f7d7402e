"""Models of the mdm app: devices, their timeline, the command queue, the inventory and the
app catalogue with licences and installations."""

from .app import App, AppInstallation, Licence
from .command import Command
from .device import Device, DeviceEvent
from .inventory import DeviceApp, DeviceProfile

__all__ = [
    "App",
    "AppInstallation",
    "Command",
    "Device",
    "DeviceApp",
    "DeviceEvent",
    "DeviceProfile",
    "Licence",
]
