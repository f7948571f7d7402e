"""SCEP service URLs (device-facing: no session, no CSRF)."""

from django.urls import include, path

from . import views

urls = [path("scep/<int:number>", views.service, name="service")]

urlpatterns = [path("", include((urls, "scep")))]
