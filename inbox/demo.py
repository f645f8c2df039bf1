"""The demo data's fixed values (no Django imports: benchmarks and scripts read them too)."""

SANDBOX_PHONE_NUMBER_ID = "100000000000001"
SANDBOX_WABA_ID = "200000000000001"
SANDBOX_ACCESS_TOKEN = "sandbox-access-token"
SANDBOX_APP_SECRET = "sandbox-app-secret"
SANDBOX_VERIFY_TOKEN = "sandbox-verify-token"


def sandbox_graph_api_base(port: str) -> str:
    """The simulator's Graph API on the port `make run` serves."""
    return f"http://127.0.0.1:{port}/simulator/graph/v23.0"
