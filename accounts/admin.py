from django.contrib import admin

from accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "role", "is_active"]
    search_fields = ["email", "name"]
    # Secrets never show in a form: the password hash and the two-factor secret.
    exclude = ["password", "otp_secret"]
