from django.urls import path

from disputes import views

app_name = "disputes"

urlpatterns = [
    path("disputes/", views.index, name="index"),
    path("works/<int:pk>/dispute", views.file, name="file"),
    path("disputes/<int:pk>/", views.detail, name="detail"),
    path("disputes/<int:pk>/evidence", views.evidence_add, name="evidence_add"),
    path("disputes/<int:pk>/reply", views.reply, name="reply"),
    path("disputes/<int:pk>/evidence/<int:evidence>", views.evidence_file, name="evidence_file"),
]
