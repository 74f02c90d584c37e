from django.urls import path

from patients.api import consent, encounters, imports, patients, records

urlpatterns = [
    path("patients/", patients.PatientListApi.as_view(), name="api_patients"),
    path("patients/<uuid:patient>/", patients.PatientDetailApi.as_view(), name="api_patient"),
    path("eligibility/", patients.EligibilityListApi.as_view(), name="api_eligibility"),
    # problem list
    path(
        "patients/<uuid:patient>/conditions/",
        records.ConditionListApi.as_view(),
        name="api_conditions",
    ),
    path(
        "conditions/<uuid:condition>/",
        records.ConditionDetailApi.as_view(),
        name="api_condition",
    ),
    path(
        "conditions/<uuid:condition>/attest/",
        records.ConditionAttestApi.as_view(),
        name="api_condition_attest",
    ),
    path(
        "conditions/<uuid:condition>/resolve/",
        records.ConditionResolveApi.as_view(),
        name="api_condition_resolve",
    ),
    # outreach and enrollment
    path(
        "patients/<uuid:patient>/outreach/",
        records.OutreachListApi.as_view(),
        name="api_outreach",
    ),
    path(
        "patients/<uuid:patient>/enrollment/",
        records.EnrollmentApi.as_view(),
        name="api_enrollment",
    ),
    path(
        "patients/<uuid:patient>/enroll/",
        records.PatientEnrollApi.as_view(),
        name="api_patient_enroll",
    ),
    # consent
    path(
        "patients/<uuid:patient>/consents/",
        consent.ConsentListApi.as_view(),
        name="api_consents",
    ),
    path("consents/<uuid:consent>/", consent.ConsentDetailApi.as_view(), name="api_consent"),
    path(
        "consents/<uuid:consent>/revoke/",
        consent.ConsentRevokeApi.as_view(),
        name="api_consent_revoke",
    ),
    # visits, other billed services, facility stays
    path("patients/<uuid:patient>/visits/", encounters.VisitListApi.as_view(), name="api_visits"),
    path("visits/<uuid:visit>/void/", encounters.VisitVoidApi.as_view(), name="api_visit_void"),
    path(
        "patients/<uuid:patient>/other-services/",
        encounters.OtherServiceListApi.as_view(),
        name="api_other_services",
    ),
    path(
        "other-services/<uuid:other_service>/void/",
        encounters.OtherServiceVoidApi.as_view(),
        name="api_other_service_void",
    ),
    path(
        "patients/<uuid:patient>/facility-stays/",
        encounters.FacilityStayListApi.as_view(),
        name="api_facility_stays",
    ),
    path(
        "facility-stays/<uuid:facility_stay>/void/",
        encounters.FacilityStayVoidApi.as_view(),
        name="api_facility_stay_void",
    ),
    # CSV imports (dry run, then commit)
    path(
        "imports/panel/preview/",
        imports.PanelImportPreviewApi.as_view(),
        name="api_panel_import_preview",
    ),
    path(
        "imports/panel/commit/",
        imports.PanelImportCommitApi.as_view(),
        name="api_panel_import_commit",
    ),
    path(
        "imports/encounters/preview/",
        imports.EncounterImportPreviewApi.as_view(),
        name="api_encounter_import_preview",
    ),
    path(
        "imports/encounters/commit/",
        imports.EncounterImportCommitApi.as_view(),
        name="api_encounter_import_commit",
    ),
]
