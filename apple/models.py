"""Apple-side records of a tenant: its push certificate (and later the Apps and Books token)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from users.fields import EncryptedTextField
from users.tenancy import TenantOwned


class PushCertificate(TenantOwned):
    """The tenant's MDM push certificate; one row per tenant, replaced in place on renewal.

    ``private_key_pem`` is encrypted at rest. A pending request (key generated, CSR handed to
    the admin, Apple's certificate not uploaded yet) has an empty ``certificate_pem``.
    """

    apple_id = models.CharField(_("Apple ID"), max_length=254, blank=True)
    topic = models.CharField(_("topic"), max_length=200, blank=True, db_index=True)
    certificate_pem = models.TextField(blank=True)
    private_key_pem = EncryptedTextField()
    serial = models.CharField(_("serial number"), max_length=80, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(
        default=False, help_text=_("Self-made for the embedded demo; Apple will not accept it.")
    )
    uploaded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("tenant", name="one_push_certificate_per_tenant"),
        ]

    def __str__(self):
        return self.topic or "pending push certificate request"

    @property
    def is_installed(self) -> bool:
        return bool(self.certificate_pem)

    @property
    def is_valid(self) -> bool:
        return self.is_installed and self.not_after is not None and self.not_after > timezone.now()
