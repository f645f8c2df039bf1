"""`/api/v1/` automation endpoints."""

app_name = "automation-api"

urlpatterns: list = []
