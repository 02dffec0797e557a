from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from tribu.core.models import Workspace, timezone_choices
from tribu.core.services.workspaces import WorkspaceError, validate_slug


class WorkspaceCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("The brand or client."))
    slug = forms.SlugField(
        label=_("Address"),
        max_length=50,
        required=False,
        help_text=_("Used in links, e.g. “acme”. Leave empty to derive it from the name."),
    )
    timezone = forms.ChoiceField(label=_("Time zone"), initial="Europe/Paris")
    language = forms.ChoiceField(
        label=_("Default language"), choices=Workspace.Language.choices, initial="fr"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices()

    def clean(self):
        cleaned = super().clean()
        slug = cleaned.get("slug") or slugify(cleaned.get("name", ""))[:50]
        if not slug:
            self.add_error("slug", _("Choose an address made of letters, digits or dashes."))
            return cleaned
        try:
            validate_slug(slug)
        except WorkspaceError as error:
            self.add_error("slug", str(error))
        cleaned["slug"] = slug
        return cleaned
