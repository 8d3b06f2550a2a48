from django.contrib import admin

admin.site.site_header = "Creator IP Portal · moderation"
admin.site.site_title = "Creator IP Portal moderation"
admin.site.index_title = "Disputes, holds, licences and the chain"
