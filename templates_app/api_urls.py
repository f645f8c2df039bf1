"""`/api/v1/templates/...` (included beside `inbox.api.urls`)."""

from django.urls import path

from templates_app import api

app_name = "templates-api"

urlpatterns = [
    path("templates/", api.TemplateListView.as_view(), name="template-list"),
    path("templates/lint/", api.TemplateLintView.as_view(), name="template-lint"),
    path("templates/sync/", api.TemplateSyncView.as_view(), name="template-sync"),
    path("templates/<int:template_id>/", api.TemplateDetailView.as_view(), name="template-detail"),
    path(
        "templates/<int:template_id>/request-review/",
        api.TemplateRequestReviewView.as_view(),
        name="template-request-review",
    ),
    path("templates/<int:template_id>/review/", api.TemplateReviewView.as_view(), name="template-review"),
    path("templates/<int:template_id>/resubmit/", api.TemplateResubmitView.as_view(), name="template-resubmit"),
    path("templates/<int:template_id>/timeline/", api.TemplateEventsView.as_view(), name="template-timeline"),
    path("templates/<int:template_id>/analytics/", api.TemplateAnalyticsView.as_view(), name="template-analytics"),
]
