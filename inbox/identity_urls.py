"""Identity changes: the contact's identity panel and acknowledging a new number or identity."""

from django.urls import path

from inbox.views import identity

app_name = "identity"

urlpatterns = [
    path("contacts/<int:contact_id>/identity", identity.identity_panel, name="panel"),
    path("contacts/<int:contact_id>/identity/acknowledge", identity.identity_acknowledge, name="acknowledge"),
]
