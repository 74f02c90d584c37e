from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from patients.chronic import (
    DATA_FILE,
    chronic_category_choices,
    chronic_category_for,
    chronic_category_label,
    chronic_reference,
)
from patients.validators import normalise_icd10, normalise_mbi, normalise_procedure_code


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("E11.9", "diabetes"),
        ("e119", "diabetes"),
        ("E08.00", "diabetes"),
        ("E13.10", "diabetes"),
        ("I10", "hypertension"),
        ("I16.9", "hypertension"),
        ("N18.30", "chronic_kidney_disease"),
        ("I50.22", "heart_failure"),
        ("J44.9", "copd"),
        ("J41.0", "copd"),
        ("J45.40", "asthma"),
        ("I48.91", "atrial_fibrillation"),
        ("I25.10", "ischemic_heart_disease"),
        ("F32.A", "depression"),
        ("F33.1", "depression"),
        ("F03.90", "alzheimers_dementia"),
        ("G30.1", "alzheimers_dementia"),
        ("G31.1", "alzheimers_dementia"),
        ("M05.79", "arthritis"),
        ("M17.11", "arthritis"),
        ("M81.0", "osteoporosis"),
        ("C7A.00", "cancer"),
        ("C50.911", "cancer"),
        ("E78.5", "hyperlipidemia"),
        ("E66.01", "obesity"),
        ("G20.A1", "parkinsons"),
        ("I69.354", "stroke_sequelae"),
        ("B20", "hiv_aids"),
        ("D57.1", "sickle_cell"),
        ("G89.29", "chronic_pain"),
    ],
)
def test_codes_in_a_chronic_range_suggest_their_category(code, category):
    # when
    found = chronic_category_for(code)
    # then
    assert found == category


@pytest.mark.parametrize("code", ["J30.9", "E55.9", "Z79.4", "G31.84", "J40", "I09.9", "G89.1"])
def test_codes_outside_every_range_suggest_nothing(code):
    # when
    found = chronic_category_for(code)
    # then
    assert found is None


def test_reference_list_names_its_source_and_has_unique_keys():
    # given
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    # when
    reference = chronic_reference()
    keys = [category.key for category in reference.categories]
    # then
    assert "Chronic Conditions Data Warehouse" in raw["source"]
    assert reference.source == raw["source"]
    assert len(keys) == len(set(keys)) == len(raw["categories"])
    assert all(start <= end for c in reference.categories for start, end in c.ranges)


def test_category_labels_and_choices():
    # when
    choices = chronic_category_choices()
    # then
    assert chronic_category_label("copd") == (
        "Chronic obstructive pulmonary disease and bronchiectasis"
    )
    assert chronic_category_label("no-such-key") == "no-such-key"
    assert ("diabetes", "Diabetes") in choices
    assert [label for _, label in choices] == sorted(label for _, label in choices)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("1EG4-TE5-MK73", "1EG4TE5MK73"),
        ("1eg4 te5 mk73", "1EG4TE5MK73"),
        ("9AA9AA9AA99", "9AA9AA9AA99"),
    ],
)
def test_valid_mbis_are_normalised(raw, canonical):
    # when
    value = normalise_mbi(raw)
    # then
    assert value == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "0EG4TE5MK73",  # position 1 cannot be 0
        "1SG4TE5MK73",  # S is excluded
        "1EL4TE5MK73",  # L is excluded
        "1EG4OE5MK73",  # O is excluded
        "1EG4TE5IK73",  # I is excluded
        "1EG4TE5MB73",  # B is excluded
        "1EG4TE5MZ73",  # Z is excluded
        "1EGATE5MK73",  # position 4 is numeric
        "1EG4TE5MK7",  # 10 characters
        "1EG4TE5MK733",  # 12 characters
    ],
)
def test_malformed_mbis_are_refused(raw):
    # when / then
    with pytest.raises(ValidationError) as error:
        normalise_mbi(raw)
    assert error.value.code == "invalid_mbi"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("e11.9", "E11.9"),
        ("E119", "E11.9"),
        (" i10 ", "I10"),
        ("N1830", "N18.30"),
        ("S72.001A", "S72.001A"),
    ],
)
def test_icd10_codes_are_normalised(raw, canonical):
    # when
    value = normalise_icd10(raw)
    # then
    assert value == canonical


@pytest.mark.parametrize(
    "raw", ["", "11.9", "E1", "EE1.9", "E11.", "E11.12345", "E11-9", "E11.9.1"]
)
def test_malformed_icd10_codes_are_refused(raw):
    # when / then
    with pytest.raises(ValidationError) as error:
        normalise_icd10(raw)
    assert error.value.code == "invalid_icd10"


@pytest.mark.parametrize(
    ("raw", "canonical"), [("99214", "99214"), ("g0438", "G0438"), ("0001F", "0001F")]
)
def test_procedure_codes_are_normalised(raw, canonical):
    # when
    value = normalise_procedure_code(raw)
    # then
    assert value == canonical


@pytest.mark.parametrize("raw", ["9921", "992145", "GG438", "99-14", "W1234"])
def test_malformed_procedure_codes_are_refused(raw):
    # when / then
    with pytest.raises(ValidationError):
        normalise_procedure_code(raw)
