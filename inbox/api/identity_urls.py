"""`/api/v1/` identity acknowledgement endpoints."""

app_name = "identity-api"

urlpatterns: list = []
