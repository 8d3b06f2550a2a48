from django.urls import path

from portal.siwe import views

app_name = "siwe"

urlpatterns = [
    path("signin", views.signin, name="signin"),
    path("siwe/nonce", views.nonce, name="nonce"),
    path("siwe/verify", views.verify, name="verify"),
]
