"""`/api/v1/` number health and business profile endpoints."""

app_name = "health-api"

urlpatterns: list = []
