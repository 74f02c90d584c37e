"""Rules are versioned by the service year (RULES.md §13 step 1)."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.rules import (
    CY2024,
    CY2025,
    CY2026,
    RULE_SETS,
    CarePlanVersion,
    ClaimLine,
    Consent,
    ConsentMethod,
    NotBillableReason,
    OtherService,
    UnsupportedServiceYearError,
    Visit,
    decide,
    rule_set_for,
)
from tests.billing.rules.builders import FEES, month_of, staff


def test_each_supported_year_has_its_own_rule_set() -> None:
    # given
    years = (2024, 2025, 2026)

    # when
    rule_sets = [rule_set_for(year) for year in years]

    # then
    assert rule_sets == [CY2024, CY2025, CY2026]
    assert sorted(RULE_SETS) == list(years)
    assert [rules.year for rules in rule_sets] == list(years)


def test_the_registry_cannot_be_changed_at_run_time() -> None:
    # given
    registry = RULE_SETS

    # when
    with pytest.raises(TypeError):
        registry[2027] = CY2026  # type: ignore[index]

    # then
    assert 2027 not in registry


def test_an_unknown_service_year_is_a_clear_error() -> None:
    # given
    old = month_of(staff(10, 25, year=2023), service_month=dt.date(2023, 3, 1))

    # when
    with pytest.raises(UnsupportedServiceYearError) as raised:
        decide(old, FEES)

    # then
    assert str(raised.value) == (
        "service year 2023 has no rule set (supported: CY2024, CY2025, CY2026)"
    )


def test_the_explanation_names_the_rules_year() -> None:
    # given
    month = month_of(
        staff(10, 25, year=2026),
        service_month=dt.date(2026, 3, 1),
        visits=(Visit(dt.date(2026, 1, 15), "99214", "dr-a", ccm_discussed=True),),
        consents=(Consent("dr-a", dt.date(2026, 2, 3), None, ConsentMethod.VERBAL),),
    )

    # when
    decision = decide(month, FEES)

    # then
    assert decision.explanation[0] == (
        "CY2026 rules; service month 2026-03 in America/New_York (POL-TZ)."
    )
    assert decision.lines == (ClaimLine("99490", 1),)


def test_apcm_codes_only_conflict_from_2025() -> None:
    # given
    march_2024 = month_of(
        staff(10, 25, year=2024),
        service_month=dt.date(2024, 3, 1),
        visits=(Visit(dt.date(2024, 1, 15), "99214", "dr-a", ccm_discussed=True),),
        consents=(Consent("dr-a", dt.date(2024, 2, 3), None, ConsentMethod.VERBAL),),
        care_plans=(CarePlanVersion(1, "dr-a", dt.date(2024, 2, 3), dt.date(2024, 2, 3), False),),
        other_services=(OtherService("G0557", "dr-a", dt.date(2024, 3, 5)),),
    )
    march_2025 = month_of(
        staff(10, 25), other_services=(OtherService("G0557", "dr-a", dt.date(2025, 3, 5)),)
    )

    # when
    before_apcm = decide(march_2024, FEES)
    with_apcm = decide(march_2025, FEES)

    # then
    assert before_apcm.lines == (ClaimLine("99490", 1),)
    assert with_apcm.reason is NotBillableReason.NB_CONFLICT_APCM_SAME_PRACTITIONER
    assert CY2024.apcm_codes == frozenset()
    assert CY2025.apcm_codes == CY2026.apcm_codes == {"G0556", "G0557", "G0558"}


def test_the_code_families_describe_their_codes() -> None:
    # given
    families = (CY2025.staff, CY2025.physician, CY2025.complex)

    # when
    described = [family.describe() for family in families]

    # then
    assert described == ["99490/99439", "99491/99437", "99487/99489"]
