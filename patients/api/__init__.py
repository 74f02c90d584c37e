"""REST API v1 of the patients domain, one module per subject. Import from the submodule.

Ids are public UUIDs. A member of the practice is named by their membership id
(``/api/v1/members/``); one that is not of this practice is a 400 on the field that named them,
while a patient, condition, consent or encounter of another practice is a 404. Every response
that shows patient data writes one read-audit row with the patient ids it showed.
"""
