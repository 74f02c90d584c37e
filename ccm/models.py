"""Tenancy core: users, practices, memberships and the audit log."""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils.timezone import now

from ccm.audit import AuditEvent
from ccm.permissions import Role
from ccm.tenancy import PracticeOwned, PracticeQuerySet
from ccm.validators import validate_npi, validate_timezone, validate_tin


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address. What they may do lives on Membership."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.full_name or self.email


class FamilyChoice(models.TextChoices):
    """POL-FAMILY / AMB-5: which family bills the billing practitioner's own minutes."""

    HIGHER_PAYMENT = "higher_payment", "Higher national payment (staff family on a tie)"
    STAFF = "staff", "Always the clinical-staff family (99490/99439)"
    PHYSICIAN = "physician", "Always the physician family (99491/99437)"


class DateOfServicePolicy(models.TextChoices):
    """POL-DOS / AMB-7."""

    THRESHOLD = "threshold", "Date the highest billed unit's threshold was reached"
    MONTH_END = "month_end", "Last day of the month (capped at the date of death)"


class CarePlanCopyPolicy(models.TextChoices):
    """POL-COPY / AMB-18: an undocumented patient copy of the care plan."""

    BLOCK = "block", "Block the claim"
    WARN = "warn", "Bill and warn"


class Practice(models.Model):
    """A medical practice: the tenant. Every practice-owned row carries its ``practice_id``.

    Holds the billing identity (NPI, TIN, place of service), the time zone in which months are
    counted (POL-TZ), and the billing policy switches of RULES.md.
    """

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    npi = models.CharField("group NPI", max_length=10, validators=[validate_npi])
    tin = models.CharField("TIN", max_length=9, validators=[validate_tin])
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=30, blank=True)
    place_of_service = models.CharField(
        max_length=2, default="11", help_text="CMS place-of-service code (R-POS-1)"
    )
    family_choice = models.CharField(
        max_length=20, choices=FamilyChoice.choices, default=FamilyChoice.HIGHER_PAYMENT
    )
    date_of_service_policy = models.CharField(
        max_length=20, choices=DateOfServicePolicy.choices, default=DateOfServicePolicy.THRESHOLD
    )
    care_plan_copy_policy = models.CharField(
        max_length=10, choices=CarePlanCopyPolicy.choices, default=CarePlanCopyPolicy.BLOCK
    )
    complex_requires_plan_revision = models.BooleanField(
        default=True, help_text="AMB-2: complex CCM needs a substantial care-plan revision"
    )
    close_grace_days = models.PositiveSmallIntegerField(
        default=3, help_text="Days after the month's end before it closes automatically"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(close_grace_days__lte=28), name="practice_grace_days_le_28"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Membership(PracticeOwned):
    """A user's place in one practice: their role, and their NPI when they bill.

    Its RLS policy also admits the signed-in user's own rows (``ccm.user_id``), because the
    middleware must list a user's practices before one is chosen.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    npi = models.CharField("individual NPI", max_length=10, blank=True, validators=[validate_npi])
    credential = models.CharField(
        max_length=20, blank=True, help_text="RN, LPN, MA, MD, DO, NP, PA, ..."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[Membership]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice", "user"], name="membership_one_per_user"),
            models.UniqueConstraint(fields=["practice", "id"], name="membership_practice_id"),
            models.CheckConstraint(
                condition=~models.Q(role="physician") | ~models.Q(npi=""),
                name="membership_physician_has_npi",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["practice", "role"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.practice_id})"

    @property
    def display_name(self) -> str:
        return self.user.full_name or self.user.email


class AuditLog(PracticeOwned):
    """One append-only row per change of practice data, and per read of patient data.

    Written by ``ccm.audit.audit_record`` inside the service that makes the change (same
    transaction), or by the interface that served a read. The app's role can INSERT and SELECT
    only; a trigger refuses UPDATE, DELETE and TRUNCATE for every role. A list or export writes
    one row holding the ids it showed (``changes["patient_ids"]``).
    """

    actor = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # No `choices`: the vocabulary (AuditEvent) grows with every domain, and a new event must
    # not need a migration of this table. audit_record() only accepts AuditEvent members.
    event = models.CharField(max_length=60)
    patient_public_id = models.UUIDField(null=True, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_public_id = models.UUIDField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=now)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["practice", "at"]),
            models.Index(fields=["practice", "patient_public_id", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.event}"

    @property
    def event_label(self) -> str:
        try:
            return str(AuditEvent(self.event).label)
        except ValueError:
            return self.event
