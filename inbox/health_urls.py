"""Number health and the WhatsApp business profile, for admins (under /settings/channels/)."""

app_name = "health"

urlpatterns: list = []
