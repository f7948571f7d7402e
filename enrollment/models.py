"""Enrollment records: profiles, enrollment sessions (web-login tokens), invitations, terms."""

import hashlib
import secrets
import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from users.fields import EncryptedTextField
from users.tenancy import TenantOwned


class Profile(TenantOwned):
    """An iOS/iPadOS profile. The *User registration profile* enrolls personal devices; a
    *configuration profile* carries ``ProfilePayload`` rows to the devices of its tags.

    ``identifier``/``payload_uuid`` never change, so a new ``revision`` replaces the installed
    profile on the device. ``revision`` and ``content_hash`` change only when what the device
    would receive changes (``enrollment.configuration_profiles.record_change``).
    """

    class Kind(models.TextChoices):
        USER_REGISTRATION = "user_registration", _("User registration profile")
        CONFIGURATION = "configuration", _("Configuration profile")

    class Removal(models.TextChoices):
        # PayloadRemovalDisallowed is forbidden in user enrollment: the user may always end
        # the enrollment, which removes every profile the portal installed.
        WITH_ENROLLMENT = "with_enrollment", _("Stays until removed by the portal or unenrolled")
        ON_DATE = "on_date", _("Removed automatically on a date")
        AFTER_DAYS = "after_days", _("Removed automatically some days after installation")

    kind = models.CharField(
        _("type"), max_length=32, choices=Kind.choices, default=Kind.USER_REGISTRATION
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    organization = models.CharField(
        _("organisation shown on the device"), max_length=120, blank=True
    )
    is_default = models.BooleanField(
        _("default for user enrollment"),
        default=False,
        help_text=_("Personal devices that enroll with a local account address get this one."),
    )
    trusted_certificates = models.TextField(
        _("trusted root certificates (PEM)"),
        blank=True,
        help_text=_(
            "Optional. Root certificates the device must trust, e.g. the CA of a TLS proxy "
            "that is not publicly trusted. Added as certificate payloads."
        ),
    )
    # Stable per profile so that re-delivery replaces the installed profile on the device.
    payload_uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    identifier = models.CharField(
        _("identifier on the device"), max_length=200, blank=True, editable=False
    )
    removal = models.CharField(
        _("removal"),
        max_length=20,
        choices=Removal.choices,
        default=Removal.WITH_ENROLLMENT,
    )
    removal_date = models.DateTimeField(_("removal date"), null=True, blank=True)
    removal_after_days = models.PositiveIntegerField(
        _("removed after (days)"), null=True, blank=True
    )
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    tags = models.ManyToManyField(
        "users.Tag", blank=True, related_name="profiles", verbose_name=_("tags")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "kind",
                condition=models.Q(is_default=True),
                name="one_default_profile_per_kind",
            )
        ]

    def __str__(self):
        return self.name


class ProfilePayload(TenantOwned):
    """One payload of a configuration profile. ``values`` holds the non-secret keys in the JSON
    form of ``enrollment.payload_values``; secret keys (passwords, PKCS#12 data, shared
    secrets) live in ``secret_values``, encrypted, under the same form."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="payloads")
    payload_type = models.CharField(_("payload type"), max_length=128)
    position = models.PositiveIntegerField(default=0)
    # Stable so that a new revision replaces this payload on the device.
    payload_uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    identifier = models.CharField(max_length=250, editable=False)
    values = models.JSONField(default=dict, blank=True)
    secret_values = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.payload_type} ({self.identifier})"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class EnrollmentSession(TenantOwned):
    """One successful web login of a user on a device, from bearer token to enrolled device.

    The bearer token is stored hashed. It lets the device fetch its profile until ``expires_at``;
    once a device's ``Authenticate`` binds it to an ``EnrollmentID`` it stays valid for that
    enrollment only (Apple's devices repeat it on every MDM request) until the enrollment ends.
    """

    class State(models.TextChoices):
        AUTHENTICATED = "authenticated", _("Signed in (token issued)")
        PROFILE_DELIVERED = "profile_delivered", _("Profile delivered")
        CHECKED_IN = "checked_in", _("Checked in")
        ENDED = "ended", _("Ended")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        "users.ManagedUser", on_delete=models.CASCADE, related_name="enrollment_sessions"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.AUTHENTICATED)
    enrollment_id = models.CharField(max_length=128, blank=True, db_index=True)
    machine_info = models.JSONField(default=dict, blank=True)
    profile_fetches = models.PositiveIntegerField(default=0)
    profile_delivered_at = models.DateTimeField(null=True, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"enrollment session {self.public_id}"

    @property
    def subject_cn(self) -> str:
        """The identity certificate's CN: ties the certificate to this session."""
        return f"ue-{self.public_id}"

    @staticmethod
    def hash_token(raw: str) -> str:
        return _hash_token(raw)

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_bound(self) -> bool:
        return bool(self.enrollment_id)

    def token_usable(self, now=None) -> bool:
        if self.state == self.State.ENDED:
            return False
        return self.is_bound or (now or timezone.now()) < self.expires_at


class Invitation(TenantOwned):
    """An enrollment invitation mailed to a managed user; re-sendable."""

    class Kind(models.TextChoices):
        ACCOUNT_USER_ENROLLMENT = "adue", _("Account-based User Enrollment")

    user = models.ForeignKey(
        "users.ManagedUser", on_delete=models.CASCADE, related_name="invitations"
    )
    kind = models.CharField(
        _("enrollment type"),
        max_length=10,
        choices=Kind.choices,
        default=Kind.ACCOUNT_USER_ENROLLMENT,
    )
    invited_by = models.ForeignKey(
        "users.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    link_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    send_count = models.PositiveIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return _("Invitation for %(user)s") % {"user": self.user.username}

    @property
    def status(self):
        if self.enrolled_at:
            return _("Enrolled")
        if self.opened_at:
            return _("Link opened")
        if self.last_sent_at:
            return _("Sent")
        if self.last_error:
            return _("Sending failed")
        return _("Queued")


class TermsOfUse(TenantOwned):
    """A published version of the tenant's terms of use; the newest version is in force."""

    version = models.PositiveIntegerField(editable=False)
    text_en = models.TextField(_("text (English)"))
    text_de = models.TextField(_("text (German)"), blank=True)
    published_by = models.ForeignKey(
        "users.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint("tenant", "version", name="terms_version_unique_per_tenant")
        ]

    def __str__(self):
        return f"terms v{self.version}"

    def text_for(self, language: str) -> str:
        return self.text_de if language.startswith("de") and self.text_de else self.text_en


class TermsAcceptance(TenantOwned):
    """The user of one enrollment accepted one version of the terms."""

    session = models.ForeignKey(
        EnrollmentSession, on_delete=models.CASCADE, related_name="terms_acceptances"
    )
    user = models.ForeignKey("users.ManagedUser", on_delete=models.CASCADE, related_name="+")
    terms = models.ForeignKey(TermsOfUse, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(auto_now_add=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("session", "terms", name="one_acceptance_per_session_version")
        ]
