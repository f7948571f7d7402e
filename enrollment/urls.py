from django.urls import path

from . import configuration_views, views

app_name = "enrollment"

urlpatterns = [
    path("", views.ProfileListView.as_view(), name="profiles"),
    path("new/", views.ProfileCreateView.as_view(), name="profile-create"),
    path("<int:pk>/", views.ProfileUpdateView.as_view(), name="profile-edit"),
    path("<int:pk>/delete/", views.ProfileDeleteView.as_view(), name="profile-delete"),
    path("terms/", views.TermsView.as_view(), name="terms"),
    path(
        "configuration/new/",
        configuration_views.ConfigurationProfileCreateView.as_view(),
        name="configuration-create",
    ),
    path(
        "configuration/<int:pk>/",
        configuration_views.ConfigurationProfileEditView.as_view(),
        name="configuration-edit",
    ),
    path(
        "configuration/import/",
        configuration_views.ProfileImportView.as_view(),
        name="profile-import",
    ),
]
