"""Tenants, portal accounts, managed users (managed Apple IDs), tags and the audit log."""

import hashlib
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedTextField
from .tenancy import TenantOwned, TenantQuerySet


class Tenant(models.Model):
    """A customer organisation; its number appears in local account addresses."""

    name = models.CharField(_("name"), max_length=200)
    number = models.PositiveIntegerField(
        _("number"),
        unique=True,
        validators=[MinValueValidator(100000), MaxValueValidator(999999999)],
        help_text=_("Used in local account addresses, e.g. alice-123456@portal.example.com."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    apple_reenrollment_enabled = models.BooleanField(
        _("Apple re-enrollment enabled"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.number})"


class Role(models.TextChoices):
    RESELLER = "reseller", _("Reseller")
    TENANT_ADMIN = "tenant_admin", _("Tenant admin")
    READ_ONLY = "read_only", _("Read-only")


class Account(AbstractUser):
    """A portal login. Resellers act for the tenants assigned to them, others for their own."""

    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.TENANT_ADMIN
    )
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="accounts"
    )
    managed_tenants = models.ManyToManyField(Tenant, blank=True, related_name="resellers")

    @property
    def can_write(self) -> bool:
        return self.role in (Role.RESELLER, Role.TENANT_ADMIN)

    def available_tenants(self):
        if self.role == Role.RESELLER:
            return self.managed_tenants.filter(is_active=True)
        if self.tenant_id:
            return Tenant.objects.filter(pk=self.tenant_id)
        return Tenant.objects.none()


class ApiToken(models.Model):
    """An API key for the REST API; only its SHA-256 is stored."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_tokens")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} (mdm_{self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, account, tenant, name: str) -> tuple["ApiToken", str]:
        raw = "mdm_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            account=account, tenant=tenant, name=name, prefix=raw[4:12], digest=cls.hash(raw)
        )
        return token, raw


class Tag(TenantOwned):
    """A label for grouping users, devices and apps (apps reach users through shared tags)."""

    name = models.CharField(_("name"), max_length=64)
    color = models.CharField(_("colour"), max_length=7, default="#3b6ea5")

    class Meta:
        ordering = ["name"]
        constraints = [
            # The same rule as users.tags.get_or_create_tag: names ignore case.
            models.UniqueConstraint("tenant", Lower("name"), name="tag_name_ci_unique_per_tenant")
        ]

    def __str__(self):
        return self.name


username_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._]*$",
    _("Use letters, digits, dots and underscores only (no hyphens, no spaces)."),
)


class ManagedUser(TenantOwned):
    """A person whose personal devices get enrolled, with their Managed Apple Account."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        CSV = "csv", _("CSV import")
        ENTRA = "entra", _("Microsoft Entra ID")

    username = models.CharField(
        _("username"),
        max_length=64,
        validators=[username_validator],
        help_text=_("Name part of the local account address."),
    )
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    managed_apple_id = models.CharField(
        _("managed Apple ID"),
        max_length=254,
        blank=True,
        help_text=_("The Managed Apple Account the device signs in with."),
    )
    comment = models.TextField(_("comment"), blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="users", verbose_name=_("tags"))
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    external_id = models.CharField(_("external id"), max_length=128, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    language = models.CharField(
        _("language"), max_length=5, choices=[("en", "English"), ("de", "Deutsch")], default="en"
    )
    enrollment_password = models.CharField(max_length=128, blank=True, editable=False)
    password_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Optional second factor of the enrollment web login (TOTP, see users/totp.py).
    totp_secret = EncryptedTextField(blank=True, editable=False)
    totp_last_step = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]
        constraints = [
            # Addresses compare case-insensitively, so usernames must be unique that way.
            models.UniqueConstraint(
                models.functions.Lower("username"),
                "tenant",
                name="managed_user_username_ci_unique",
            )
        ]
        indexes = [models.Index(fields=["tenant", "external_id"])]

    def __str__(self):
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name or self.username} <{self.managed_apple_id or self.email}>"

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.username

    @property
    def has_enrollment_password(self) -> bool:
        return bool(self.enrollment_password)

    def set_enrollment_password(self, raw: str) -> None:
        from django.utils import timezone

        self.enrollment_password = make_password(raw)
        self.password_changed_at = timezone.now()

    def check_enrollment_password(self, raw: str) -> bool:
        if not self.enrollment_password:
            # Run the hasher anyway so timing does not tell which users have a password.
            make_password(raw)
            return False
        return check_password(raw, self.enrollment_password)


class AuditEvent(models.Model):
    """Who did what to which object; written through ``users.audit.record``."""

    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
        )

    @property
    def action_label(self) -> str:
        from .audit import action_label

        return action_label(self.action)
