"""Identity changes: acknowledging a contact's new number or identity."""

app_name = "identity"

urlpatterns: list = []
