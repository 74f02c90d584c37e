"""Synthetic demo data: two practices, a member of every role in each, one person in both.

``seed()`` runs the functions of ``SEED_STEPS`` in order, in one transaction. Each step is
idempotent: it looks up what it would create and creates only what is missing, through the
domain's services, inside ``practice_context`` for practice-owned rows (RLS is FORCEd). A second
run therefore changes nothing.

A domain adds its demo data (patients, care plans, time entries, billing) by writing a step
``seed_<what>(world: DemoWorld) -> None`` and appending it to ``SEED_STEPS`` after the steps it
builds on. ``world`` carries what earlier steps made (practices by slug, memberships by practice
slug and email) and counts what was created, for the summary line.

Nothing here is real: the NPIs pass the Luhn check but are made up, the TINs use an IRS prefix
(07) that is never assigned, and the e-mail domains are reserved ``.example`` names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.module_loading import import_string

from ccm import selectors, services
from ccm.models import Membership, Practice, User
from ccm.permissions import Role
from ccm.tenancy import practice_context

# Published on purpose (README, launcher banner): every demo login uses it. ``seed_demo`` refuses
# to run outside demo mode, so it never reaches a real installation.
DEMO_PASSWORD = "ccm-demo-password"  # noqa: S105


@dataclass(frozen=True, slots=True)
class PracticeSpec:
    slug: str
    name: str
    timezone: str
    npi: str
    tin: str
    address_line1: str
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class MemberSpec:
    email: str
    full_name: str
    role: Role
    npi: str = ""
    credential: str = ""


PRACTICES: tuple[PracticeSpec, ...] = (
    PracticeSpec(
        slug="maple",
        name="Maple Family Medicine",
        timezone="America/New_York",
        npi="1000001010",
        tin="070000101",
        address_line1="120 Maple Avenue",
        city="Albany",
        state="NY",
        postal_code="12207",
    ),
    PracticeSpec(
        slug="harbor",
        name="Harbor Internal Medicine",
        timezone="America/Los_Angeles",
        npi="1000002018",
        tin="070000202",
        address_line1="45 Harbor Way",
        city="San Diego",
        state="CA",
        postal_code="92101",
    ),
)

# Dr. Reyes practises in both: one person, one individual NPI, two memberships.
_REYES = MemberSpec(
    email="morgan.reyes@demo.example",
    full_name="Dr. Morgan Reyes",
    role=Role.PHYSICIAN,
    npi="1999990033",
    credential="MD",
)

# The practice admin comes first: it is the practice's first member, and it adds the others.
MEMBERS: dict[str, tuple[MemberSpec, ...]] = {
    "maple": (
        MemberSpec("admin@maple.example", "Tom Becker", Role.PRACTICE_ADMIN),
        MemberSpec("manager@maple.example", "Priya Shah", Role.PRACTICE_MANAGER),
        MemberSpec(
            "coordinator@maple.example", "Ana Torres", Role.CARE_COORDINATOR, credential="RN"
        ),
        MemberSpec(
            "physician@maple.example",
            "Dr. Samuel Okafor",
            Role.PHYSICIAN,
            npi="1999990017",
            credential="MD",
        ),
        _REYES,
    ),
    "harbor": (
        MemberSpec("admin@harbor.example", "Grace Kim", Role.PRACTICE_ADMIN),
        MemberSpec("manager@harbor.example", "Luis Ortega", Role.PRACTICE_MANAGER),
        MemberSpec(
            "coordinator@harbor.example", "Jamie Chen", Role.CARE_COORDINATOR, credential="LPN"
        ),
        MemberSpec(
            "physician@harbor.example",
            "Dr. Helen Park",
            Role.PHYSICIAN,
            npi="1999990025",
            credential="DO",
        ),
        _REYES,
    ),
}


@dataclass(frozen=True, slots=True)
class Login:
    email: str
    password: str
    practice: str
    role: str


@dataclass
class DemoWorld:
    """What the steps have built so far, and what they created on this run."""

    practices: dict[str, Practice] = field(default_factory=dict)
    memberships: dict[str, dict[str, Membership]] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)

    def membership(self, practice_slug: str, email: str) -> Membership:
        return self.memberships[practice_slug][email]


def seed_practices(world: DemoWorld) -> None:
    for spec in PRACTICES:
        practice = Practice.objects.filter(slug=spec.slug).first()
        if practice is None:
            practice = services.practice_create(
                name=spec.name,
                slug=spec.slug,
                timezone=spec.timezone,
                npi=spec.npi,
                tin=spec.tin,
                address_line1=spec.address_line1,
                city=spec.city,
                state=spec.state,
                postal_code=spec.postal_code,
            )
            world.created["practices"] += 1
        world.practices[spec.slug] = practice


def _user(spec: MemberSpec, world: DemoWorld) -> User:
    user = User.objects.filter(email=spec.email).first()
    if user is None:
        user = User.objects.create_user(spec.email, DEMO_PASSWORD, full_name=spec.full_name)
        world.created["users"] += 1
    return user


def seed_members(world: DemoWorld) -> None:
    for slug, specs in MEMBERS.items():
        practice = world.practices[slug]
        with practice_context(practice.pk):
            by_user = {m.user_id: m for m in selectors.membership_list(practice=practice)}
            actor: Membership | None = None
            members = world.memberships.setdefault(slug, {})
            for spec in specs:
                user = _user(spec, world)
                membership = by_user.get(user.pk)
                if membership is None:
                    membership = services.membership_create(
                        practice=practice,
                        actor=actor,
                        user=user,
                        role=spec.role,
                        npi=spec.npi,
                        credential=spec.credential,
                    )
                    world.created["memberships"] += 1
                actor = actor or membership
                members[spec.email] = membership
                world.logins.append(
                    Login(
                        email=spec.email,
                        password=DEMO_PASSWORD,
                        practice=practice.name,
                        role=membership.get_role_display(),
                    )
                )


SeedStep = Callable[[DemoWorld], None]

# In dependency order, as dotted paths so that ccm imports no domain app. Domains append their
# steps here (patients, then care plans, time entries, billing); each must be idempotent and
# create practice-owned rows inside practice_context.
SEED_STEPS: list[str] = [
    "ccm.demo_data.seed_practices",
    "ccm.demo_data.seed_members",
    "patients.demo.seed_patients",
    "careplans.demo.seed_care_plans",
    "timetracking.demo.seed_time_entries",
    "billing.demo.seed_billing",
]


@transaction.atomic
def seed(steps: list[SeedStep] | None = None) -> DemoWorld:
    """Run the seed steps in one transaction; what a step created is counted in the result."""
    world = DemoWorld()
    for step in [import_string(path) for path in SEED_STEPS] if steps is None else steps:
        step(world)
    return world
