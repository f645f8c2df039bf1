"""Login, the Security page and invitation links (included at the root from config/urls.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views_auth

urlpatterns = [
    path("login/", views_auth.login_password, name="login"),
    path("login/code/", views_auth.login_code, name="login-code"),
    path("login/setup/", views_auth.login_setup, name="login-setup"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("security/", views_auth.security_page, name="security"),
    path("security/two-factor/start/", views_auth.security_two_factor_start, name="security-two-factor-start"),
    path("security/two-factor/setup/", views_auth.security_two_factor_setup, name="security-two-factor-setup"),
    path("security/two-factor/disable/", views_auth.security_two_factor_disable, name="security-two-factor-disable"),
    path("security/recovery-codes/", views_auth.security_recovery_codes, name="security-recovery-codes"),
    path("security/password/", views_auth.security_password, name="security-password"),
    path("invite/<str:token>/", views_auth.invitation_accept, name="invitation-accept"),
]
