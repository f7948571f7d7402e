from django.urls import path

from . import views

app_name = "mobile_settings"

urlpatterns = [
    path("", views.SettingsView.as_view(), name="index"),
]
