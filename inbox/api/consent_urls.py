"""`/api/v1/` consent ledger endpoints."""

from django.urls import path

from inbox.api import consent_views

app_name = "consent-api"

urlpatterns = [
    path("contacts/<int:contact_id>/consent/", consent_views.ContactConsentView.as_view(), name="contact-consent"),
]
