from django.urls import path

from . import views

app_name = "mobile_settings"

urlpatterns = [
    path("", views.SettingsView.as_view(), name="index"),
    path("push/request/", views.PushRequestView.as_view(), name="push-request"),
    path("push/upload/", views.PushUploadView.as_view(), name="push-upload"),
    path("reenrollment/", views.ReenrollmentView.as_view(), name="reenrollment"),
    path("vpp/upload/", views.VppUploadView.as_view(), name="vpp-upload"),
    path("vpp/sync/", views.VppSyncView.as_view(), name="vpp-sync"),
]
