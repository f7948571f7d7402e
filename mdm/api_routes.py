from .api import DeviceViewSet
from .api_apps import AppInstallationViewSet, AppViewSet, LicenceViewSet, TagViewSet

routes = [
    ("devices", DeviceViewSet, "device"),
    ("apps", AppViewSet, "app"),
    ("tags", TagViewSet, "tag"),
    ("licences", LicenceViewSet, "licence"),
    ("app-installations", AppInstallationViewSet, "appinstallation"),
]
