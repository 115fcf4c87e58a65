from django.urls import path

from marketplace import views

app_name = "marketplace"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("offers/<int:pk>/", views.offer_detail, name="offer_detail"),
    path("providers/", views.provider_list, name="provider_list"),
    path("providers/<slug:slug>/", views.provider_detail, name="provider_detail"),
    path("gpus/", views.gpu_list, name="gpu_list"),
    path("gpus/<slug:slug>/", views.gpu_detail, name="gpu_detail"),
    path("countries/", views.country_list, name="country_list"),
    path("countries/<str:code>/", views.country_detail, name="country_detail"),
]
