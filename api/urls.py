from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import views

app_name = "api"
urlpatterns = [
    path("offers/", views.OfferList.as_view(), name="offer_list"),
    path("offers/<int:pk>/", views.OfferDetail.as_view(), name="offer_detail"),
    path("offers/<int:pk>/history/", views.OfferHistory.as_view(), name="offer_history"),
    path("gpus/", views.GpuList.as_view(), name="gpu_list"),
    path("gpus/<slug:slug>/price-index/", views.GpuPriceIndex.as_view(), name="gpu_price_index"),
    path("providers/", views.ProviderList.as_view(), name="provider_list"),
    path("providers/<slug:slug>/", views.ProviderDetail.as_view(), name="provider_detail"),
    path("countries/", views.CountryList.as_view(), name="country_list"),
    path("inventory/", views.InventoryPush.as_view(), name="inventory_push"),
    path("inventory/offers/<str:external_id>/", views.OfferAvailability.as_view(), name="offer_availability"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
