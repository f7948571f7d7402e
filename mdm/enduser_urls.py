"""End-user pages of mdm: the self-service apps page (signed in like the enrollment web login)."""

from django.urls import include, path

from . import enduser_views

urls = [
    path("apps/t/<int:number>/", enduser_views.index, name="index"),
    path("apps/t/<int:number>/login", enduser_views.login, name="login"),
    path("apps/t/<int:number>/logout", enduser_views.logout, name="logout"),
    path("apps/t/<int:number>/install", enduser_views.install, name="install"),
]

urlpatterns = [path("", include((urls, "enduser-apps")))]
