from django.urls import path

from . import app_views, tag_views, views

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
    path("devices/<int:pk>/assign/", tag_views.DeviceAppView.as_view(), name="device-assign"),
    path("apps/", app_views.AppListView.as_view(), name="apps"),
    path("apps/add/", app_views.AppAddView.as_view(), name="app-add"),
    path("apps/assets/", app_views.AppAssetSearchView.as_view(), name="app-assets"),
    path("apps/<int:pk>/", app_views.AppDetailView.as_view(), name="app"),
    path("apps/<int:pk>/edit/", app_views.AppEditView.as_view(), name="app-edit"),
    path("tags/", tag_views.TagListView.as_view(), name="tags"),
    path("tags/new/", tag_views.TagFormView.as_view(), name="tag-create"),
    path("tags/<int:pk>/", tag_views.TagDetailView.as_view(), name="tag"),
    path("tags/<int:pk>/edit/", tag_views.TagFormView.as_view(), name="tag-edit"),
    path("tags/<int:pk>/delete/", tag_views.TagDeleteView.as_view(), name="tag-delete"),
]
