"""The consent ledger's pages and partials (contact panel, export)."""

app_name = "consent"

urlpatterns: list = []
