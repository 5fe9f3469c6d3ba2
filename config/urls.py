"""URL map: pages, allauth, admin, the versioned API, its schema and docs, and health."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.api import BusinessUnitViewSet, MeView, OfficeViewSet
from accounts.views import set_language
from actions.api import ActionViewSet, DirectiveViewSet, NotificationViewSet
from audit.api import AuditEventViewSet
from cases.api import IncidentViewSet, RiskViewSet
from committee import views as committee_views
from committee.api import CalendarFeedViewSet, CommitteeViewSet, MeetingViewSet
from committee.api_resolutions import ResolutionViewSet
from config.admin_site import admin_login
from config.api import bad_request, not_found, permission_denied, server_error
from config.health import healthz
from config.pages import favicon
from quality.api import ProjectViewSet, QualityThresholdViewSet
from systems.api import SuspensionViewSet, SystemViewSet
from systems.api_inventory import (
    ComponentViewSet,
    InventoryRouter,
    NetworkIdentityViewSet,
    SbomViewSet,
)
from vulnerabilities.api import (
    AdvisoryViewSet,
    ExposureViewSet,
    FindingViewSet,
    RemediationDeadlineViewSet,
)
from vulnerabilities.api_scans import AssetViewSet, ExposedServiceViewSet, ScanViewSet

router = DefaultRouter()
router.register("business-units", BusinessUnitViewSet, basename="business-unit")
router.register("offices", OfficeViewSet, basename="office")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("systems", SystemViewSet, basename="system")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("risks", RiskViewSet, basename="risk")
router.register("actions", ActionViewSet, basename="action")
router.register("directives", DirectiveViewSet, basename="directive")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("suspensions", SuspensionViewSet, basename="suspension")
router.register("committees", CommitteeViewSet, basename="committee")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("resolutions", ResolutionViewSet, basename="resolution")
router.register("calendar-feeds", CalendarFeedViewSet, basename="calendar-feed-token")
router.register("projects", ProjectViewSet, basename="project")
router.register("quality-thresholds", QualityThresholdViewSet, basename="quality-threshold")
router.register("advisories", AdvisoryViewSet, basename="advisory")
router.register("findings", FindingViewSet, basename="finding")
router.register("exposure", ExposureViewSet, basename="exposure")
router.register("scans", ScanViewSet, basename="scan")
router.register("discovered-assets", AssetViewSet, basename="discovered-asset")
router.register("exposed-services", ExposedServiceViewSet, basename="exposed-service")
router.register(
    "remediation-deadlines", RemediationDeadlineViewSet, basename="remediation-deadline"
)
# Under a system: its inventory (PUT on the collection replaces it whole), SBOMs, identities.
inventory_router = InventoryRouter()
SYSTEM = r"systems/(?P<system_id>[0-9]+)"
inventory_router.register(f"{SYSTEM}/components", ComponentViewSet, basename="system-component")
inventory_router.register(f"{SYSTEM}/sbom", SbomViewSet, basename="system-sbom")
inventory_router.register(
    f"{SYSTEM}/network-identities", NetworkIdentityViewSet, basename="system-network-identity"
)

admin.site.site_header = "Risk Compliance Committee — administration"
admin.site.site_title = "RCC admin"

urlpatterns = [
    path("", committee_views.dashboard, name="dashboard"),
    # The admin's own login form knows no second factor: everyone signs in through allauth.
    path("admin/login/", admin_login, name="admin-login-redirect"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Django's switcher, which also keeps a signed-in person's pick for their mail.
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/me/", MeView.as_view(), name="me"),
    path("api/v1/", include(router.urls)),
    path("api/v1/", include(inventory_router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("calendar/<str:token>.ics", committee_views.calendar_feed, name="calendar-feed"),
    path("", include("committee.urls")),
    path("", include("cases.urls")),
    path("", include("systems.urls")),
    path("", include("quality.urls")),
    path("", include("vulnerabilities.urls")),
    path("", include("actions.urls")),
    path("", include("audit.urls")),
]

# An id that cannot be one (`/api/v1/systems/1.5/`) matches no route: a JSON 404 under /api/,
# as the API's own 404s are, and the product's own page elsewhere.
handler404 = not_found
# Under /api/ every error is JSON with a message, whatever refused the request; elsewhere a page
# in the site's layout and the reader's language says why, with a way back (config/pages.py).
handler400 = bad_request
handler403 = permission_denied
handler500 = server_error
