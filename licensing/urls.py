from django.urls import path

from licensing import views

app_name = "licensing"

urlpatterns = [
    path("catalogue", views.catalogue, name="catalogue"),
    path("works/<int:pk>/offers/new", views.offer_new, name="offer_new"),
    path("works/<int:pk>/terms.json", views.work_terms, name="work_terms"),
    path("works/<int:pk>/tdm-policy.json", views.tdm_policy, name="tdm_policy"),
    path("works/<int:pk>/ai", views.ai_fetch, name="ai_fetch"),
    path("fetches/<str:quote_id>.json", views.fetch_receipt, name="fetch_receipt"),
    path("offers/<int:pk>/edit", views.offer_edit, name="offer_edit"),
    path("offers/<int:pk>/withdraw", views.offer_withdraw, name="offer_withdraw"),
    path("offers/<int:pk>/quote", views.quote_new, name="quote_new"),
    path("quotes/<str:quote_id>/", views.quote_detail, name="quote"),
    path("quotes/<str:quote_id>/status", views.quote_status, name="quote_status"),
    path("quotes/<str:quote_id>/tx", views.quote_tx, name="quote_tx"),
    path("quotes/<str:quote_id>/permit", views.quote_permit, name="quote_permit"),
    path("quotes/<str:quote_id>/submitted", views.quote_submitted, name="quote_submitted"),
    path("licences/", views.licences, name="licences"),
    path("licences/<int:pk>/", views.licence_detail, name="licence"),
    path("licences/<int:pk>.json", views.licence_json, name="licence_json"),
    path("licences/<int:pk>/download", views.licence_download, name="licence_download"),
    path("licences/verify", views.certificate_verify, name="certificate_verify"),
    path(".well-known/tdmrep.json", views.tdmrep_json, name="tdmrep"),
    path("ai.txt", views.ai_txt, name="ai_txt"),
    path("license.xml", views.rsl_license, name="rsl"),
    path("derivations/<int:pk>/decide", views.derivation_decide, name="derivation_decide"),
]
