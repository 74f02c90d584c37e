from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from ccm import api

urlpatterns = [
    path("v1/me/", api.MeApi.as_view(), name="api_me"),
    path("v1/members/", api.MembershipListApi.as_view(), name="api_members"),
    path("v1/", include("careplans.api_urls")),
    path("v1/", include("timetracking.api_urls")),
    path("v1/", include("billing.api_urls")),
    path("v1/", include("patients.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
]
