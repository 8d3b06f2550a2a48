from django.urls import path

from works import views

app_name = "works"

urlpatterns = [
    path("works/new", views.upload, name="upload"),
    path("works/<int:pk>/", views.detail, name="detail"),
    path("works/<int:pk>/status", views.status, name="status"),
    path("works/<int:pk>/typed-data", views.typed_data, name="typed_data"),
    path("works/<int:pk>/sign", views.sign, name="sign"),
    path("works/<int:pk>/original", views.original, name="original"),
    path("works/<int:pk>/provenance.json", views.provenance_json, name="provenance"),
    path("works/<int:pk>/publications", views.publication_add, name="publication_add"),
    path(
        "works/<int:pk>/publications/<int:publication>/remove",
        views.publication_remove,
        name="publication_remove",
    ),
    path("works/portfolios/new", views.portfolio_new, name="portfolio_new"),
    path("works/portfolios/<int:pk>/", views.portfolio, name="portfolio"),
    path("works/portfolios/<int:pk>/files", views.portfolio_file, name="portfolio_file"),
    path("works/portfolios/<int:pk>/csv", views.portfolio_csv, name="portfolio_csv"),
    path("works/portfolios/<int:pk>/typed-data", views.portfolio_typed_data, name="portfolio_typed_data"),
    path("works/portfolios/<int:pk>/sign", views.portfolio_sign, name="portfolio_sign"),
    path("verify", views.verify, name="verify"),
]
