"""Device-facing URLs (no session, no CSRF)."""

urlpatterns = []
