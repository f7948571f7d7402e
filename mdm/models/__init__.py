"""Models of the mdm app: devices, their timeline, the command queue and the inventory."""

from .command import Command
from .device import Device, DeviceEvent
from .inventory import DeviceApp, DeviceProfile

__all__ = ["Command", "Device", "DeviceApp", "DeviceEvent", "DeviceProfile"]
