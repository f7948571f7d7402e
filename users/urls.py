from django.urls import path

from . import views

app_name = "users"

urlpatterns = [
    path("", views.UserListView.as_view(), name="list"),
    path("new/", views.UserCreateView.as_view(), name="create"),
    path("bulk/", views.UserBulkView.as_view(), name="bulk"),
    path("<int:pk>/", views.UserUpdateView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.UserDeleteView.as_view(), name="delete"),
    path("<int:pk>/password-link/", views.UserPasswordLinkView.as_view(), name="password-link"),
    path("export.csv", views.UserExportView.as_view(), name="export"),
    path("import/csv/", views.CsvImportView.as_view(), name="csv-import"),
    path("import/csv/template.csv", views.csv_template, name="csv-template"),
    path("import/csv/<int:pk>/", views.CsvImportDetailView.as_view(), name="csv-import-detail"),
    path(
        "import/csv/<int:pk>/status", views.CsvImportStatusView.as_view(), name="csv-import-status"
    ),
    path("import/entra/", views.EntraView.as_view(), name="entra"),
    path("import/entra/test/", views.EntraTestView.as_view(), name="entra-test"),
    path("import/entra/sync/", views.EntraSyncView.as_view(), name="entra-sync"),
    path("import/entra/status/", views.EntraStatusView.as_view(), name="entra-status"),
]
