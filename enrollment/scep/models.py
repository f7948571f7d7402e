"""The tenant's identity CA, one-time SCEP challenges and the certificates issued."""

import hashlib

from django.db import models

from users.fields import EncryptedTextField
from users.tenancy import TenantOwned


class IdentityCA(TenantOwned):
    """Issues the MDM identity certificates of one tenant's devices. The key is encrypted."""

    certificate_pem = models.TextField()
    private_key_pem = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint("tenant", name="one_identity_ca_per_tenant")]

    def __str__(self):
        return f"identity CA of tenant {self.tenant_id}"


class ScepChallenge(TenantOwned):
    """A one-time challenge from an enrollment profile, stored as its SHA-256 only."""

    digest = models.CharField(max_length=64, unique=True)
    subject_cn = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class IssuedCertificate(TenantOwned):
    serial = models.CharField(max_length=80, unique=True)
    subject = models.CharField(max_length=300)
    not_after = models.DateTimeField()
    challenge = models.OneToOneField(
        ScepChallenge, null=True, on_delete=models.SET_NULL, related_name="certificate"
    )
    transaction_id = models.CharField(max_length=128, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at"]
