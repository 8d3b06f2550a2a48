from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("orgs/<slug:slug>/runs/<int:pk>/", views.run_detail, name="run"),
    path("orgs/<slug:slug>/invoices/<int:pk>/", views.invoice_detail, name="invoice"),
    path("orgs/<slug:slug>/invoices/<int:pk>/status", views.invoice_status, name="invoice_status"),
    path("orgs/<slug:slug>/invoices/<int:pk>/tx", views.invoice_tx, name="invoice_tx"),
    path("orgs/<slug:slug>/invoices/<int:pk>/permit", views.invoice_permit, name="invoice_permit"),
    path("orgs/<slug:slug>/invoices/<int:pk>/submitted", views.invoice_submitted, name="invoice_submitted"),
    path("orgs/<slug:slug>/quotes/<str:settlement_id>/", views.quote_detail, name="quote"),
    path("orgs/<slug:slug>/quotes/<str:settlement_id>/status", views.quote_status, name="quote_status"),
    path("orgs/<slug:slug>/quotes/<str:settlement_id>/tx", views.quote_tx, name="quote_tx"),
    path("orgs/<slug:slug>/quotes/<str:settlement_id>/permit", views.quote_permit, name="quote_permit"),
    path(
        "orgs/<slug:slug>/quotes/<str:settlement_id>/submitted", views.quote_submitted, name="quote_submitted"
    ),
]
