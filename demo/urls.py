from django.urls import path

from demo import api_hyperstack, api_lambda, api_runpod, api_shadeform, api_vastai, api_verda, views

app_name = "demo"
urlpatterns = [
    path("feeds/", views.feed_index, name="feed_index"),
    path("feeds/<slug:slug>.json", views.feed, name="feed"),
    # Mock provider APIs in their real formats: base URLs /demo/api/lambda, /demo/api/shadeform, /demo/api/verda.
    path("api/lambda/api/v1/instance-types", api_lambda.instance_types_view, name="api_lambda_instance_types"),
    path("api/shadeform/v1/instances/types", api_shadeform.instance_types_view, name="api_shadeform_instance_types"),
    path("api/verda/v1/oauth2/token", api_verda.token_view, name="api_verda_token"),
    path("api/verda/v1/instance-types", api_verda.instance_types_view, name="api_verda_instance_types"),
    path("api/verda/v1/instance-availability", api_verda.instance_availability_view, name="api_verda_availability"),
    # Base URLs /demo/api/runpod, /demo/api/vastai, /demo/api/hyperstack.
    path("api/runpod/graphql", api_runpod.graphql_view, name="api_runpod_graphql"),
    path("api/vastai/api/v0/bundles/", api_vastai.bundles_view, name="api_vastai_bundles"),
    path("api/hyperstack/core/flavors", api_hyperstack.flavors_view, name="api_hyperstack_flavors"),
    path("api/hyperstack/pricebook", api_hyperstack.pricebook_view, name="api_hyperstack_pricebook"),
    path("api/hyperstack/core/stocks", api_hyperstack.stocks_view, name="api_hyperstack_stocks"),
]
