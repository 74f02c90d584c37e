from django.urls import path

from billing import api

urlpatterns = [
    path("billing/months/", api.BillingMonthListApi.as_view(), name="api_billing_months"),
    path(
        "billing/months/close/", api.BillingMonthCloseApi.as_view(), name="api_billing_month_close"
    ),
    path(
        "billing/months/<uuid:billing_month>/",
        api.BillingMonthDetailApi.as_view(),
        name="api_billing_month",
    ),
    path(
        "billing/months/<uuid:billing_month>/reopen/",
        api.BillingMonthReopenApi.as_view(),
        name="api_billing_month_reopen",
    ),
    path(
        "billing/months/<uuid:billing_month>/claims/",
        api.ClaimListApi.as_view(),
        name="api_billing_month_claims",
    ),
    path(
        "billing/months/<uuid:billing_month>/not-billable/",
        api.NotBillableListApi.as_view(),
        name="api_billing_month_not_billable",
    ),
    path("billing/claims/<uuid:claim>/", api.ClaimDetailApi.as_view(), name="api_billing_claim"),
]
