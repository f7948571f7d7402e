"""Imports of managed users: CSV files and Microsoft Entra ID connections."""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from users.fields import EncryptedTextField
from users.tenancy import TenantOwned


class CsvImport(TenantOwned):
    """One uploaded CSV file, validated (preview), then imported by a Celery task.

    The file stays on disk under ``VAR_DIR/imports`` until the import ends; only counts and
    the problem rows are stored, never one row per good line.
    """

    class State(models.TextChoices):
        VALIDATING = "validating", _("Checking the file")
        PREVIEW = "preview", _("Ready to import")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Not a usable CSV file")

    class Mode(models.TextChoices):
        SKIP_INVALID = "skip", _("Import the valid rows, skip the invalid ones")
        ALL_OR_NOTHING = "all", _("Import nothing if any row is invalid")

    file_name = models.CharField(max_length=255)
    path = models.CharField(max_length=500, editable=False)
    state = models.CharField(max_length=12, choices=State.choices, default=State.VALIDATING)
    mode = models.CharField(max_length=4, choices=Mode.choices, default=Mode.SKIP_INVALID)
    delimiter = models.CharField(max_length=1, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    invalid_rows = models.PositiveIntegerField(default=0)
    new_rows = models.PositiveIntegerField(default=0)
    existing_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # [{"row": 7, "username": "…", "reason": "…"}], capped; ``invalid_rows`` has the full count.
    problems = models.JSONField(default=list, blank=True)
    sample = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        "users.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.file_name

    @property
    def progress(self) -> int:
        if self.state in (self.State.DONE, self.State.PREVIEW, self.State.REJECTED):
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0

    @property
    def problem_rows(self) -> list[dict]:
        """The stored problems with their reasons in the reader's language."""
        from .csv_import import problem_text

        return [{**p, "reason": problem_text(p)} for p in self.problems]


class EntraConnection(TenantOwned):
    """The tenant's Microsoft Entra ID app registration and sync state."""

    class AppleIdSource(models.TextChoices):
        UPN = "upn", _("userPrincipalName")
        MAIL = "mail", _("mail")

    class Scope(models.TextChoices):
        ALL = "all", _("All users")
        GROUPS = "groups", _("Members of chosen groups")

    class RunState(models.TextChoices):
        IDLE = "idle", _("Idle")
        TESTING = "testing", _("Testing the connection")
        IMPORTING = "importing", _("Importing")

    directory_id = models.CharField(_("Entra tenant ID"), max_length=64)
    client_id = models.CharField(_("client (application) ID"), max_length=64)
    client_secret = EncryptedTextField(_("client secret"))
    apple_id_source = models.CharField(
        _("managed Apple ID from"),
        max_length=4,
        choices=AppleIdSource.choices,
        default=AppleIdSource.UPN,
    )
    scope = models.CharField(_("import"), max_length=6, choices=Scope.choices, default=Scope.ALL)
    group_ids = models.TextField(
        _("group IDs"), blank=True, help_text=_("One Entra group object ID per line.")
    )
    sync_enabled = models.BooleanField(_("sync every hour"), default=True)
    delta_link = EncryptedTextField(blank=True, editable=False)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)
    last_error = models.CharField(max_length=500, blank=True)  # a sentence of graph.py
    # "Test connection" and "Import now" run as tasks; the page shows what runs and how far.
    run_state = models.CharField(
        max_length=10, choices=RunState.choices, default=RunState.IDLE, editable=False
    )
    run_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    run_progress = models.PositiveIntegerField(default=0, editable=False)  # users read
    tested_at = models.DateTimeField(null=True, blank=True, editable=False)
    test_ok = models.BooleanField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint("tenant", name="one_entra_connection_per_tenant")]

    def __str__(self):
        return f"Entra ID {self.directory_id}"

    @property
    def is_running(self) -> bool:
        """A run that has not reported for 15 minutes died with its worker."""
        return (
            self.run_state != self.RunState.IDLE
            and self.run_started_at is not None
            and timezone.now() - self.run_started_at < timedelta(minutes=15)
        )

    @property
    def last_error_text(self) -> str:
        """The stored problem in the reader's language."""
        return gettext(self.last_error) if self.last_error else ""

    @property
    def groups(self) -> list[str]:
        return [g.strip() for g in self.group_ids.split() if g.strip()]
