from django.urls import include, path

from ccm import auth, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("practice/choose/", views.practice_choose, name="practice_choose"),
    path("practice/members/", views.practice_members, name="practice_members"),
    path(
        "practice/members/<uuid:membership>/toggle/",
        views.membership_toggle,
        name="membership_toggle",
    ),
    path("practice/audit/", views.audit_log, name="audit_log"),
    # allauth's login view with django-axes' lockout checks (before allauth's own route).
    path("accounts/login/", auth.LoginView.as_view(), name="account_login"),
    path("accounts/", include("allauth.urls")),
    path("api/", include("ccm.api_urls")),
    path("time/", include("timetracking.urls")),
    path("billing/", include("billing.urls")),
    path("", include("careplans.urls")),
    path("", include("patients.urls")),
]

handler403 = "ccm.views.error_403"
handler404 = "ccm.views.error_404"
handler500 = "ccm.views.error_500"
