from django.urls import path

from orgs import views

app_name = "orgs"

urlpatterns = [
    path("orgs/", views.index, name="index"),
    path("orgs/<slug:slug>/", views.detail, name="detail"),
    path("orgs/<slug:slug>/members", views.member_add, name="member_add"),
    path("orgs/<slug:slug>/members/<int:pk>/remove", views.member_remove, name="member_remove"),
    path("orgs/<slug:slug>/wallets", views.wallet_add, name="wallet_add"),
    path("orgs/<slug:slug>/keys", views.key_create, name="key_create"),
    path("orgs/<slug:slug>/keys/<int:pk>/revoke", views.key_revoke, name="key_revoke"),
]
