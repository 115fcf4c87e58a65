from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:slug>/", views.provider_home, name="provider"),
    path("<slug:slug>/regions/", views.region_list, name="region_list"),
    path("<slug:slug>/regions/new/", views.region_create, name="region_create"),
    path("<slug:slug>/regions/<int:pk>/edit/", views.region_edit, name="region_edit"),
    path("<slug:slug>/offers/", views.offer_list, name="offer_list"),
    path("<slug:slug>/offers/new/", views.offer_create, name="offer_create"),
    path("<slug:slug>/offers/export.csv", views.offer_export, name="offer_export"),
    path("<slug:slug>/offers/import/", views.offer_import, name="offer_import"),
    path("<slug:slug>/offers/import/confirm/", views.offer_import_confirm, name="offer_import_confirm"),
    path("<slug:slug>/offers/<int:pk>/edit/", views.offer_edit, name="offer_edit"),
    path("<slug:slug>/offers/<int:pk>/withdraw/", views.offer_withdraw, name="offer_withdraw"),
    path("<slug:slug>/offers/<int:pk>/reactivate/", views.offer_reactivate, name="offer_reactivate"),
    path("<slug:slug>/offers/<int:pk>/confirm/", views.offer_confirm, name="offer_confirm"),
    path("<slug:slug>/connections/", views.connection_list, name="connection_list"),
    path("<slug:slug>/connections/new/", views.connection_create, name="connection_create"),
    path("<slug:slug>/connections/<int:pk>/", views.connection_detail, name="connection_detail"),
    path("<slug:slug>/connections/<int:pk>/edit/", views.connection_edit, name="connection_edit"),
    path("<slug:slug>/connections/<int:pk>/sync/", views.connection_sync, name="connection_sync"),
    path("<slug:slug>/connections/<int:pk>/test/", views.connection_test, name="connection_test"),
    path(
        "<slug:slug>/connections/<int:pk>/tests/<int:test_pk>/",
        views.connection_test_status,
        name="connection_test_status",
    ),
    path("<slug:slug>/connections/<int:pk>/enable/", views.connection_enable, name="connection_enable"),
    path("<slug:slug>/connections/<int:pk>/disable/", views.connection_disable, name="connection_disable"),
    path("<slug:slug>/connections/<int:pk>/runs/<int:run_pk>/", views.run_detail, name="run_detail"),
    path("<slug:slug>/history/", views.history, name="history"),
]
