"""Apple's callbacks (Apps and Books notifications)."""

urlpatterns = []
