from django.urls import path

from . import views

app_name = "mdm"

urlpatterns = [
    path("devices/", views.DeviceListView.as_view(), name="devices"),
    path("apps/", views.AppListView.as_view(), name="apps"),
]
