"""Automations: auto-replies, the bot hook and the escalation route (under /settings/channels/)."""

app_name = "automation"

urlpatterns: list = []
