from django.urls import path

from careplans import api

urlpatterns = [
    path("patients/<uuid:patient>/care-plan/", api.CarePlanApi.as_view(), name="api_care_plan"),
    path(
        "patients/<uuid:patient>/complexity-attestations/",
        api.ComplexityAttestationApi.as_view(),
        name="api_complexity_attestations",
    ),
    path(
        "complexity-attestations/<uuid:complexity_attestation>/void/",
        api.ComplexityAttestationVoidApi.as_view(),
        name="api_complexity_attestation_void",
    ),
    path(
        "care-plans/<uuid:care_plan>/revisions/",
        api.CarePlanRevisionApi.as_view(),
        name="api_care_plan_revisions",
    ),
    path(
        "care-plan-versions/",
        api.CarePlanVersionListApi.as_view(),
        name="api_care_plan_versions",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/",
        api.CarePlanVersionApi.as_view(),
        name="api_care_plan_version",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/submit/",
        api.CarePlanVersionSubmitApi.as_view(),
        name="api_care_plan_version_submit",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/sign/",
        api.CarePlanVersionSignApi.as_view(),
        name="api_care_plan_version_sign",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/diff/",
        api.CarePlanVersionDiffApi.as_view(),
        name="api_care_plan_version_diff",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/goal-progress/",
        api.CarePlanGoalProgressApi.as_view(),
        name="api_care_plan_goal_progress",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/copies/",
        api.CarePlanCopyApi.as_view(),
        name="api_care_plan_copies",
    ),
]
