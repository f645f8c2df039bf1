"""The demo data's fixed values (no Django imports: benchmarks and scripts read them too)."""

SANDBOX_PHONE_NUMBER_ID = "100000000000001"
# The sandbox's Meta app (profile photo uploads go through its Resumable Upload API; the simulator takes any).
SANDBOX_APP_ID = "300000000000001"
SANDBOX_WABA_ID = "200000000000001"
SANDBOX_ACCESS_TOKEN = "sandbox-access-token"
SANDBOX_APP_SECRET = "sandbox-app-secret"
SANDBOX_VERIFY_TOKEN = "sandbox-verify-token"


def sandbox_graph_api_base(port: str) -> str:
    """The simulator's Graph API on the port `make run` serves."""
    return f"http://127.0.0.1:{port}/simulator/graph/v23.0"


# Templates the sandbox account starts with, approved on both sides (our copy and the simulator's).
DEMO_TEMPLATES = [
    {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1042"]}},
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} has shipped and arrives on {{3}}.",
                "example": {"body_text": [["Ana", "#1042", "Friday"]]},
            },
            {"type": "FOOTER", "text": "Questions? Just reply here."},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Thanks!"},
                    {"type": "QUICK_REPLY", "text": "Talk to a person"},
                ],
            },
        ],
    },
    {
        "name": "appointment_reminder",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Hello {{1}}, this is a reminder of your appointment on {{2}} at {{3}}. Can you make it?",
                "example": {"body_text": [["Ana", "June 3", "10:30"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Yes, see you"},
                    {"type": "QUICK_REPLY", "text": "Reschedule"},
                ],
            },
        ],
    },
    {
        "name": "pedido_enviado",
        "language": "pt_BR",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Olá {{1}}, o seu pedido {{2}} foi enviado hoje. Obrigado pela preferência!",
                "example": {"body_text": [["Ana", "#1042"]]},
            },
        ],
    },
]
