from django.urls import path

from . import views

app_name = "enrollment"

urlpatterns = [
    path("", views.ProfileListView.as_view(), name="profiles"),
    path("new/", views.ProfileCreateView.as_view(), name="profile-create"),
    path("<int:pk>/", views.ProfileUpdateView.as_view(), name="profile-edit"),
    path("<int:pk>/delete/", views.ProfileDeleteView.as_view(), name="profile-delete"),
    path("terms/", views.TermsView.as_view(), name="terms"),
]
