from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from inbox.views import health, pages, webhooks

urlpatterns = [
    path("", pages.home, name="home"),
    path("", include("inbox.urls")),
    path("", include("accounts.urls")),
    path("", include("inbox.consent_urls")),
    path("", include("inbox.health_urls")),
    path("", include("inbox.automation_urls")),
    path("", include("inbox.identity_urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("webhooks/whatsapp", webhooks.whatsapp_webhook, name="whatsapp-webhook"),
    path("api/v1/", include("inbox.api.urls")),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("templates_app.api_urls")),
    path("api/v1/", include("inbox.api.consent_urls")),
    path("api/v1/", include("inbox.api.health_urls")),
    path("api/v1/", include("inbox.api.automation_urls")),
    path("api/v1/", include("inbox.api.identity_urls")),
    path("settings/", include("accounts.settings_urls")),
    path("templates/", include("templates_app.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("django-admin/", admin.site.urls),
    path("simulator/", include("simulator.urls")),
]
