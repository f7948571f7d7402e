"""``manage.py simulate_device <address> --password …``: enroll a simulated iPhone."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from enrollment.simulator.__main__ import build_parser, run


class Command(BaseCommand):
    help = "Enroll a simulated, user-enrolled iPhone against this portal over HTTPS."

    def add_arguments(self, parser):
        for action in build_parser()._actions[1:]:  # skip -h
            kwargs = {"help": action.help, "default": action.default}
            if action.option_strings:
                if action.nargs == 0:
                    kwargs = {"action": "store_true", "help": action.help}
                elif action.required:
                    kwargs["required"] = True
                parser.add_argument(*action.option_strings, dest=action.dest, **kwargs)
            else:
                parser.add_argument(action.dest, help=action.help)

    def handle(self, *args, **options):
        options.setdefault("server", None)
        if not options.get("server"):
            options["server"] = settings.PORTAL_BASE_URL
        if not options.get("ca"):
            ca = Path(settings.VAR_DIR) / "tls" / "local-ca.pem"
            options["ca"] = str(ca) if ca.exists() else None

        class Args:
            pass

        args = Args()
        for key in ("address", "password", "server", "ca", "accept_terms", "code", "product"):
            setattr(args, key, options.get(key))
        if run(args, out=self.stdout) != 0:
            raise CommandError("enrollment failed")
