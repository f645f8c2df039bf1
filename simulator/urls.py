from django.urls import path, re_path

from simulator import bot, graph, views

app_name = "simulator"

# Graph API paths take any version (`v23.0`, `v19.0`, ...) as Meta's do; object ids are checked by the views.
_GRAPH = r"^graph/(?P<version>v\d+\.\d+)/(?P<object_id>[^/]+)"

urlpatterns = [
    path("", views.phone, name="phone"),
    path("phone/thread", views.phone_thread, name="phone-thread"),
    path("phone/send", views.phone_send, name="phone-send"),
    path("phone/customers", views.phone_customer, name="phone-customer"),
    path("phone/age", views.phone_age, name="phone-age"),
    path("phone/media/<str:media_id>", views.phone_media, name="phone-media"),
    path("phone/templates/<str:template_id>/<str:action>", views.phone_template_action, name="phone-template-action"),
    path("api/inbound", views.api_inbound, name="api-inbound"),
    path("api/outbound", views.api_outbound, name="api-outbound"),
    path("api/read", views.api_read, name="api-read"),
    path("api/customers", views.api_customers, name="api-customers"),
    path("api/age", views.api_age, name="api-age"),
    path("api/numbers/<str:phone_number_id>/limits", views.api_number_limits, name="api-number-limits"),
    path("api/numbers/<str:phone_number_id>/health", views.api_number_health, name="api-number-health"),
    path(
        "api/numbers/<str:phone_number_id>/health/<str:action>",
        views.api_number_health_action,
        name="api-number-health-action",
    ),
    path("api/customers/<str:action>", views.api_customer_action, name="api-customer-action"),
    path("phone/numbers/<str:action>", views.phone_number_action, name="phone-number-action"),
    path("phone/customers/<str:action>", views.phone_customer_action, name="phone-customer-action"),
    path("profile-pictures/<str:phone_number_id>", graph.profile_picture, name="profile-picture"),
    path("api/templates", views.api_templates, name="api-templates"),
    path("api/templates/<str:template_id>", views.api_template, name="api-template"),
    path("api/templates/<str:template_id>/<str:action>", views.api_template_action, name="api-template-action"),
    re_path(_GRAPH + r"/messages/?$", graph.messages, name="graph-messages"),
    re_path(_GRAPH + r"/media/?$", graph.media_upload, name="graph-media"),
    re_path(_GRAPH + r"/message_templates/?$", graph.message_templates, name="graph-message-templates"),
    re_path(_GRAPH + r"/whatsapp_business_profile/?$", graph.business_profile, name="graph-business-profile"),
    re_path(_GRAPH + r"/uploads/?$", graph.uploads, name="graph-uploads"),
    re_path(_GRAPH + r"/?$", graph.node, name="graph-node"),
    path("lookaside/whatsapp_business/attachments/", graph.media_download, name="media-download"),
    path("bot/", bot.demo_bot, name="demo-bot"),
]
