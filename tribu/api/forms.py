from django import forms
from django.utils.translation import gettext_lazy as _

from tribu.core.roles import Role


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What will use it, such as “weekly report script”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        help_text=_("The token never has more rights than you have in this workspace."),
    )

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the member's own role and weaker ones; the least powerful is the default.
        self.fields["role"].choices = [(role, Role(role).label) for role in roles]
        self.fields["role"].initial = roles[-1] if roles else None
