from django.urls import path

from patients.views import consent, encounters, imports, patient, records

urlpatterns = [
    path("patients/", patient.patient_list, name="patient_list"),
    path("patients/new/", patient.patient_create, name="patient_create"),
    path("patients/<uuid:patient>/", patient.patient_detail, name="patient_detail"),
    path("patients/<uuid:patient>/edit/", patient.patient_edit, name="patient_edit"),
    path("eligibility/", patient.patient_eligibility, name="patient_eligibility"),
    # problem list
    path("patients/<uuid:patient>/conditions/new/", records.condition_add, name="condition_add"),
    path("conditions/<uuid:condition>/edit/", records.condition_edit, name="condition_edit"),
    path("conditions/<uuid:condition>/attest/", records.condition_attest, name="condition_attest"),
    path(
        "conditions/<uuid:condition>/resolve/",
        records.condition_resolve,
        name="condition_resolve",
    ),
    # outreach and enrollment
    path("patients/<uuid:patient>/outreach/new/", records.outreach_record, name="outreach_record"),
    path(
        "patients/<uuid:patient>/enrollment/",
        records.enrollment_change,
        name="enrollment_change",
    ),
    path("patients/<uuid:patient>/enroll/", records.patient_enroll, name="patient_enroll"),
    # consent
    path("patients/<uuid:patient>/consents/new/", consent.consent_record, name="consent_record"),
    path(
        "patients/<uuid:patient>/consents/decline/",
        consent.consent_decline,
        name="consent_decline",
    ),
    path("consents/<uuid:consent>/revoke/", consent.consent_revoke, name="consent_revoke"),
    path("consents/<uuid:consent>/document/", consent.consent_document, name="consent_document"),
    # visits, other billed services, facility stays
    path("patients/<uuid:patient>/visits/new/", encounters.visit_record, name="visit_record"),
    path(
        "patients/<uuid:patient>/other-services/new/",
        encounters.other_service_record,
        name="other_service_record",
    ),
    path(
        "patients/<uuid:patient>/facility-stays/new/",
        encounters.facility_stay_record,
        name="facility_stay_record",
    ),
    path("visits/<uuid:visit>/void/", encounters.visit_void, name="visit_void"),
    path(
        "other-services/<uuid:other_service>/void/",
        encounters.other_service_void,
        name="other_service_void",
    ),
    path(
        "facility-stays/<uuid:facility_stay>/void/",
        encounters.facility_stay_void,
        name="facility_stay_void",
    ),
    # CSV imports (dry run, then commit)
    path("imports/", imports.import_start, name="patient_import"),
    path("imports/panel/", imports.panel_import_upload, name="panel_import_upload"),
    path("imports/encounters/", imports.encounter_import_upload, name="encounter_import_upload"),
    path("imports/confirm/", imports.import_commit, name="import_commit"),
    path(
        "imports/samples/panel.csv",
        imports.import_sample,
        {"kind": "panel"},
        name="import_sample_panel",
    ),
    path(
        "imports/samples/visits.csv",
        imports.import_sample,
        {"kind": "visits"},
        name="import_sample_visits",
    ),
    path(
        "imports/samples/other_services.csv",
        imports.import_sample,
        {"kind": "other_services"},
        name="import_sample_other_services",
    ),
    path(
        "imports/samples/facility_stays.csv",
        imports.import_sample,
        {"kind": "facility_stays"},
        name="import_sample_facility_stays",
    ),
]
