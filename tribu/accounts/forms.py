from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from tribu.accounts.models import User

__all__ = [
    "LoginForm",
    "SecondFactorForm",
    "PasswordResetRequestForm",
    "SetPasswordForm",
    "PasswordChangeForm",
    "ProfileForm",
    "TwoFactorConfirmForm",
    "TwoFactorDisableForm",
    "ConfirmPasswordForm",
]


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def code_field(label, help_text=""):
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
    )


class SecondFactorForm(forms.Form):
    code = code_field(
        _("Authentication code"),
        _("The 6-digit code from your authenticator app, or one of your recovery codes."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs["autofocus"] = True


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "language"]
        labels = {"name": _("Name"), "language": _("Interface language")}
        help_texts = {
            "language": _("“Browser language” follows the language set in your web browser."),
        }
        widgets = {"name": forms.TextInput(attrs={"autocomplete": "name"})}


class TwoFactorConfirmForm(forms.Form):
    code = code_field(_("Code from your app"), _("Enter the 6-digit code your app shows now."))


class ConfirmPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TwoFactorDisableForm(ConfirmPasswordForm):
    code = code_field(
        _("Authentication code"), _("A current code from your app, or a recovery code.")
    )
