"""factory-boy factories. Practice-owned rows must be built inside ``in_practice(practice)``."""

from __future__ import annotations

import factory

from ccm.models import Membership, Practice, User
from ccm.permissions import Role

# Valid NPIs (Luhn check over 80840): the CMS test values and a few computed ones.
PHYSICIAN_NPIS = ["1234567893", "1245319599", "1003000126", "1992749188", "1538237580"]


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")


class PracticeFactory(factory.django.DjangoModelFactory[Practice]):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")
    timezone = "America/New_York"
    npi = "1234567893"
    tin = "123456789"
    address_line1 = "1 Main Street"
    city = "Springfield"
    state = "IL"
    postal_code = "62701"


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    practice = factory.SubFactory(PracticeFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.CARE_COORDINATOR
    npi = factory.LazyAttribute(lambda m: PHYSICIAN_NPIS[0] if m.role == Role.PHYSICIAN else "")
    credential = factory.LazyAttribute(
        lambda m: {"physician": "MD", "care_coordinator": "RN"}.get(m.role, "")
    )
