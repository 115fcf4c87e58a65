app_name = "demo"
urlpatterns = []
