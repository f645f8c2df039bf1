"""`/api/v1/` consent ledger endpoints."""

app_name = "consent-api"

urlpatterns: list = []
