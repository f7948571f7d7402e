from .api_views import CsvImportViewSet, EntraSyncViewSet, ManagedUserViewSet

routes = [
    ("users", ManagedUserViewSet, "manageduser"),
    ("user-imports/csv", CsvImportViewSet, "csvimport"),
    ("user-imports/entra", EntraSyncViewSet, "entrasync"),
]
