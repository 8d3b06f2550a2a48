from django.urls import path

from royalties import views

app_name = "royalties"

urlpatterns = [
    path("earnings/", views.earnings, name="earnings"),
    path("earnings/statement.csv", views.statement, name="statement"),
    path("earnings/withdraw/tx", views.withdraw_tx, name="withdraw_tx"),
    path("earnings/withdraw/submitted", views.withdraw_submitted, name="withdraw_submitted"),
    path("earnings/withdraw/token/tx", views.withdraw_token_tx, name="withdraw_token_tx"),
    path("earnings/withdraw/status", views.withdraw_status, name="withdraw_status"),
    path("works/<int:pk>/splits/", views.splits, name="splits"),
    path("works/<int:pk>/splits/<int:version>/typed-data", views.split_typed_data, name="split_typed_data"),
    path("works/<int:pk>/splits/<int:version>/accept", views.split_accept, name="split_accept"),
    path("works/<int:pk>/splits/<int:version>/decline", views.split_decline, name="split_decline"),
    path("works/<int:pk>/splits/<int:version>/withdraw", views.split_withdraw, name="split_withdraw"),
]
