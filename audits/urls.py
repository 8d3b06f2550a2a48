from django.urls import path

from audits import views

app_name = "audits"

urlpatterns = [
    path("audits/", views.index, name="index"),
    path("audits/<uuid:token>/", views.detail, name="detail"),
    path("audits/<uuid:token>/progress", views.progress, name="progress"),
    path("audits/<uuid:token>/cancel", views.cancel, name="cancel"),
    path("audits/<uuid:token>/quote", views.quote, name="quote"),
    path("audits/<uuid:token>/evidence/<int:pk>.jpg", views.evidence, name="evidence"),
    path("audits/<uuid:token>/report.json", views.export_json, name="export_json"),
    path("audits/<uuid:token>/report.csv", views.export_csv, name="export_csv"),
]
