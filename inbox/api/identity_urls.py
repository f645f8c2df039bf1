"""`/api/v1/` identity acknowledgement endpoints."""

from django.urls import path

from inbox.api import identity_views as views

app_name = "identity-api"

urlpatterns = [
    path("contacts/<int:contact_id>/identity/", views.ContactIdentityView.as_view(), name="contact-identity"),
    path(
        "contacts/<int:contact_id>/identity/acknowledge/",
        views.ContactIdentityAcknowledgeView.as_view(),
        name="contact-identity-acknowledge",
    ),
]
