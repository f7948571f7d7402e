from .api import DeviceViewSet

routes = [("devices", DeviceViewSet, "device")]
