"""WebSocket routes (config/asgi.py wraps them in session authentication and an Origin check)."""

from django.urls import path

from inbox.consumers import InboxConsumer

websocket_urlpatterns = [
    path("ws/", InboxConsumer.as_asgi()),
]
