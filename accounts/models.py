from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """What the portal knows of a user beyond Django's User: whether their e-mail is verified."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    # The address verified, so that changing the e-mail address needs a new verification.
    verified_email = models.EmailField(blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("profile")

    def __str__(self) -> str:
        return str(self.user)
