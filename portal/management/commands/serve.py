"""Serve the portal over HTTPS for the embedded default (local CA made on first run)."""

from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management.base import BaseCommand
from django.core.wsgi import get_wsgi_application

from portal.tls import ThreadedTLSServer, ensure_local_tls


class Command(BaseCommand):
    help = "Serve the portal over HTTPS (embedded default; production uses gunicorn behind a TLS proxy)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="0.0.0.0", help="address to listen on")  # noqa: S104 - a server
        parser.add_argument(
            "--port", type=int, default=None, help="port (default: from PORTAL_BASE_URL)"
        )

    def handle(self, *args, bind, port, **options):
        base = urlsplit(settings.PORTAL_BASE_URL)
        port = port or base.port or 443
        tls = ensure_local_tls(Path(settings.VAR_DIR) / "tls", (base.hostname or "localhost",))
        server = ThreadedTLSServer((bind, port), tls, StaticFilesHandler(get_wsgi_application()))
        self.stdout.write(self.style.SUCCESS(f"Portal at {settings.PORTAL_BASE_URL}/"))
        self.stdout.write(f"Trust the local CA in your browser or device: {tls.ca_path}")
        self.stdout.write("Quit with CONTROL-C.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
