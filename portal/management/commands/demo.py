"""Create the demo tenant (number 123456) with a tenant admin and a reseller, idempotently.

Lives in portal, the one app that may use all others: accounts from users, the demo managed
user, profile, terms and push certificate from enrollment.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from enrollment.demo import ensure_demo_enrollment
from users.models import Account, Role, Tenant

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - printed on purpose; demo data only


class Command(BaseCommand):
    help = "Create demo tenants and accounts and print how to sign in."

    def handle(self, *args, **options):
        with transaction.atomic():
            demo, _ = Tenant.objects.get_or_create(
                number=123456, defaults={"name": "Demo Organisation"}
            )
            second, _ = Tenant.objects.get_or_create(
                number=654321, defaults={"name": "Second Demo"}
            )
            admin = self._account("admin", role=Role.TENANT_ADMIN, tenant=demo)
            reseller = self._account("reseller", role=Role.RESELLER, tenant=None)
            reseller.managed_tenants.add(demo, second)
        lines = [
            "Demo tenant: Demo Organisation (123456); second tenant: Second Demo (654321)",
            f"Tenant admin: {admin.username} / {DEMO_PASSWORD}",
            f"Reseller (both tenants): {reseller.username} / {DEMO_PASSWORD}",
        ]
        lines += [str(line) for line in ensure_demo_enrollment(demo)]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    def _account(self, username, *, role, tenant):
        account, created = Account.objects.get_or_create(
            username=username, defaults={"role": role, "tenant": tenant}
        )
        if created:
            account.set_password(DEMO_PASSWORD)
            account.save()
        return account
