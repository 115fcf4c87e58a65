from django.urls import path

from deals import views

app_name = "deals"
urlpatterns = [
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/extend/", views.request_extend, name="request_extend"),
    path("requests/<int:pk>/quotes/<int:quote_pk>/accept/", views.quote_accept, name="quote_accept"),
    path("requests/<int:pk>/quotes/<int:quote_pk>/decline/", views.quote_decline, name="quote_decline"),
    path("requests/<int:pk>/messages/<slug:provider_slug>/", views.message_post, name="message_post"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("searches/", views.search_list, name="search_list"),
    path("searches/save/", views.search_save, name="search_save"),
    path("searches/<int:pk>/", views.search_edit, name="search_edit"),
    path("searches/<int:pk>/delete/", views.search_delete, name="search_delete"),
    path("searches/unsubscribe/<str:token>/", views.search_unsubscribe, name="search_unsubscribe"),
]
