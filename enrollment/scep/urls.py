"""SCEP service URLs."""

urlpatterns = []
