from django.urls import path

from . import views

app_name = "mdm"

urlpatterns = [
    path("devices/", views.DeviceListView.as_view(), name="devices"),
    path("devices/<int:pk>/", views.DeviceDetailView.as_view(), name="device"),
    path("devices/<int:pk>/remove/", views.DeviceRemoveView.as_view(), name="device-remove"),
    path("devices/<int:pk>/refresh/", views.DeviceRefreshView.as_view(), name="device-refresh"),
    path("devices/<int:pk>/commands/", views.DeviceCommandView.as_view(), name="device-command"),
    path("devices/<int:pk>/settings/", views.DeviceSettingsView.as_view(), name="device-settings"),
    path(
        "devices/<int:pk>/commands/<uuid:command>/cancel/",
        views.DeviceCancelCommandView.as_view(),
        name="device-command-cancel",
    ),
    path("devices/bulk/", views.DeviceBulkView.as_view(), name="device-bulk"),
    path("apps/", views.AppListView.as_view(), name="apps"),
]
