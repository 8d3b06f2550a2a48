from django.contrib import admin

from core.models import Profile


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what was agreed, paid or seen on chain: never added, edited or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "updated_at"]
    search_fields = ["display_name", "user__username"]
