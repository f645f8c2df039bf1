"""The consent ledger's pages and partials (contact panel, export)."""

from django.urls import path

from inbox.views import consent

app_name = "consent"

urlpatterns = [
    path("contacts/<int:contact_id>/consent", consent.consent_panel, name="panel"),
    path("contacts/<int:contact_id>/consent/record", consent.consent_record, name="record"),
    path("contacts/<int:contact_id>/consent.csv", consent.contact_consent_csv, name="contact-csv"),
    path("consent/export.csv", consent.consent_export_csv, name="export-csv"),
]
