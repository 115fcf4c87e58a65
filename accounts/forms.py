from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from providers.models import Certification, Provider


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        label=_("E-mail"), help_text=_("Used to reset your password and for provider contact."), max_length=254
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]

    def clean_email(self) -> str:
        # A taken address is not an error here: that would tell anyone which addresses have an
        # account. accounts.services.user_signup mails its owner instead (addresses stay unique).
        return self.cleaned_data["email"].strip()


class ProviderApplicationForm(forms.ModelForm):
    certifications = forms.ModelMultipleChoiceField(
        queryset=Certification.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Certifications"),
        help_text=_(
            "They count in the catalog once you have entered their issuer, validity and evidence on your "
            "dashboard and an administrator has verified them."
        ),
    )

    class Meta:
        model = Provider
        fields = [
            "name",
            "website",
            "hq_country",
            "contact_email",
            "description",
            "legal_entity",
            "incorporation_country",
            "registration_number",
            "vat_number",
            "parent_name",
            "parent_country",
            "dpa_offered",
            "certifications",
        ]
        labels = {
            "name": _("Organisation name"),
            "contact_email": _("Contact e-mail"),
            "website": _("Website"),
            "description": _("Description"),
        }
        help_texts = {"description": _("What you offer, where, and for whom. Shown on your public profile.")}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_email"].required = True

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Provider.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(_("A provider with this name is already listed or under review."))
        return name
