"""Invitations and the user picker of the Devices page dialogs, mounted under the Devices URL."""

from django.urls import path

from . import views

app_name = "invitations"

urlpatterns = [
    path("register/users", views.RegisterUserSearchView.as_view(), name="users"),
    path("invite/", views.InviteView.as_view(), name="send"),
    path("invitations/", views.InvitationListView.as_view(), name="list"),
    path("invitations/<int:pk>/resend/", views.InvitationResendView.as_view(), name="resend"),
]
