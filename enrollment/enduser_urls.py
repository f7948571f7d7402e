"""End-user pages (web login, terms, invitation links)."""

from django.urls import include, path

from . import enduser_views

urls = [
    path("enroll/t/<int:number>/login", enduser_views.login, name="login"),
    path("terms/<str:token>/", enduser_views.accept_terms, name="terms"),
    path("invitation/<uuid:link_id>/", enduser_views.invitation, name="invitation"),
]

urlpatterns = [path("", include((urls, "enduser-enrollment")))]
