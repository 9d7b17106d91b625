from django.contrib import admin

from .models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "status", "owner", "start_date", "end_date", "budget"]
    list_filter = ["channel", "status"]
    search_fields = ["name"]
    raw_id_fields = ["owner"]
