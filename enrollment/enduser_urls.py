"""End-user pages (web login, terms)."""

urlpatterns = []
