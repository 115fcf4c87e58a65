from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("activate/<uidb64>/<token>/", views.activate, name="activate"),
    path("profile/", views.profile, name="profile"),
    path("apply/", views.apply_provider, name="apply_provider"),
    path("verify/<str:token>/", views.verify_email, name="verify_email"),
    path("verify/", views.verify_email_resend, name="verify_email_resend"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
