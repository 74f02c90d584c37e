from django.urls import path

from careplans import views

urlpatterns = [
    path("patients/<uuid:patient>/care-plan/", views.care_plan_detail, name="care_plan_detail"),
    path(
        "patients/<uuid:patient>/care-plan/start/",
        views.care_plan_start,
        name="care_plan_start",
    ),
    path(
        "patients/<uuid:patient>/complexity/",
        views.complexity_attestations,
        name="complexity_attestations",
    ),
    path(
        "complexity/<uuid:complexity_attestation>/void/",
        views.complexity_attestation_void,
        name="complexity_attestation_void",
    ),
    path("care-plans/review/", views.care_plan_review_queue, name="care_plan_review_queue"),
    path("care-plans/templates/", views.care_plan_template_list, name="care_plan_template_list"),
    path(
        "care-plans/templates/new/",
        views.care_plan_template_edit,
        name="care_plan_template_create",
    ),
    path(
        "care-plans/templates/<uuid:care_plan_template>/",
        views.care_plan_template_edit,
        name="care_plan_template_edit",
    ),
    path("care-plans/<uuid:care_plan>/revise/", views.care_plan_revise, name="care_plan_revise"),
    path(
        "care-plan-versions/<uuid:care_plan_version>/",
        views.care_plan_version_detail,
        name="care_plan_version_detail",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/edit/",
        views.care_plan_version_edit,
        name="care_plan_version_edit",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/templates/",
        views.care_plan_version_apply_templates,
        name="care_plan_version_apply_templates",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/submit/",
        views.care_plan_version_submit,
        name="care_plan_version_submit",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/diff/",
        views.care_plan_version_diff,
        name="care_plan_version_diff",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/sign/",
        views.care_plan_version_sign,
        name="care_plan_version_sign",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/goal-progress/",
        views.care_plan_goal_progress,
        name="care_plan_goal_progress",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/copies/",
        views.care_plan_copy_record,
        name="care_plan_copy_record",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/patient-copy/",
        views.care_plan_document_request,
        name="care_plan_document_request",
    ),
    path(
        "care-plan-versions/<uuid:care_plan_version>/patient-copy.pdf",
        views.care_plan_document_download,
        name="care_plan_document_download",
    ),
]
