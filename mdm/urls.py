from django.urls import path

from . import views

app_name = "mdm"

urlpatterns = [
    path("devices/", views.DeviceListView.as_view(), name="devices"),
    path("devices/<int:pk>/", views.DeviceDetailView.as_view(), name="device"),
    path("devices/<int:pk>/remove/", views.DeviceRemoveView.as_view(), name="device-remove"),
    path("devices/<int:pk>/refresh/", views.DeviceRefreshView.as_view(), name="device-refresh"),
    path("devices/<int:pk>/commands/", views.DeviceCommandView.as_view(), name="device-command"),
    path("devices/bulk/", views.DeviceBulkView.as_view(), name="device-bulk"),
    path("devices/register/users", views.RegisterUserSearchView.as_view(), name="register-users"),
    path("devices/invite/", views.InviteView.as_view(), name="invite"),
    path("devices/invitations/", views.InvitationListView.as_view(), name="invitations"),
    path(
        "devices/invitations/<int:pk>/resend/",
        views.InvitationResendView.as_view(),
        name="invitation-resend",
    ),
    path("apps/", views.AppListView.as_view(), name="apps"),
]
