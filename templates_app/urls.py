"""The template pages, under `/templates/` (included from config/urls.py)."""

from django.urls import path

from templates_app import views

app_name = "templates"

urlpatterns = [
    path("", views.template_list, name="list"),
    path("new", views.template_new, name="new"),
    path("lint", views.template_lint, name="lint"),
    path("sync", views.templates_sync, name="sync"),
    path("<int:template_id>/", views.template_detail, name="detail"),
    path("<int:template_id>/edit", views.template_edit, name="edit"),
    path(
        "<int:template_id>/revisions/<int:revision_id>/request-review",
        views.revision_request_review,
        name="request-review",
    ),
    path("<int:template_id>/revisions/<int:revision_id>/review", views.revision_review, name="review"),
    path("<int:template_id>/revisions/<int:revision_id>/resubmit", views.revision_resubmit, name="resubmit"),
]
