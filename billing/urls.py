from django.urls import path

from billing import views

urlpatterns = [
    path("", views.months, name="billing_months"),
    path("months/<str:month>/close/", views.month_close, name="billing_month_close"),
    path("months/<uuid:billing_month>/", views.month_detail, name="billing_month"),
    path("months/<uuid:billing_month>/status/", views.month_status, name="billing_month_status"),
    path("months/<uuid:billing_month>/reopen/", views.month_reopen, name="billing_month_reopen"),
    path(
        "months/<uuid:billing_month>/not-billable/",
        views.not_billable,
        name="billing_not_billable",
    ),
    path("claims/<uuid:claim>/", views.claim_detail, name="billing_claim"),
    path(
        "claims/<uuid:claim>/audit-packet/",
        views.audit_packet_request,
        name="billing_audit_packet",
    ),
    path(
        "reports/<uuid:billing_report>/",
        views.report_download,
        name="billing_report_download",
    ),
]
