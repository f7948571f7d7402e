from django.urls import path

from . import enduser_views

app_name = "enduser-users"

urlpatterns = [
    path("account/password/<uidb64>/<token>/", enduser_views.set_password, name="set-password"),
]
