import secrets

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from PIL import Image

from tribu.accounts.models import User
from tribu.core.models import MENTION_LANGUAGES, Workspace, timezone_choices
from tribu.core.roles import Role
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


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the roles the inviter may grant are offered.
        self.fields["role"].choices = [(role, Role(role).label) for role in roles]
        if Role.EDITOR in roles:
            self.fields["role"].initial = Role.EDITOR


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role, Role(role).label) for role in roles]


class SignUpForm(forms.Form):
    """Creates the account of an invited person; the email comes from the invitation."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Confirm password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        # Built per request so that the rules show in the visitor's language.
        self.fields[
            "password1"
        ].help_text = password_validation.password_validators_help_text_html()

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ: type the same one twice."))
        elif password1:
            candidate = User(email=self.email, name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 4096


def validate_logo(upload):
    """Accept PNG, JPEG or WebP up to 1 MB, checked by Pillow rather than by file name.

    SVG is refused: it can carry scripts, and it would be served from our own origin.
    Returns the file extension that matches the real format.
    """
    head = upload.read(512)
    upload.seek(0)
    if upload.name.lower().endswith(".svg") or b"<svg" in head.lower() or head.lstrip()[:1] == b"<":
        raise ValidationError(
            _("SVG logos are not accepted because they can contain scripts. Export it as PNG.")
        )
    if upload.size > LOGO_MAX_BYTES:
        raise ValidationError(
            _("The logo is %(size)s; the limit is 1 MB. Export a smaller image.")
            % {"size": filesizeformat(upload.size)}
        )
    try:
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("This file is not a readable image. Upload a PNG, JPEG or WebP file.")
        ) from None
    finally:
        upload.seek(0)
    if image_format not in LOGO_FORMATS:
        raise ValidationError(
            _("%(format)s images are not accepted. Upload a PNG, JPEG or WebP file.")
            % {"format": image_format}
        )
    if max(width, height) > LOGO_MAX_SIDE:
        raise ValidationError(
            _(
                "The logo is %(width)s×%(height)s pixels; the limit is 4096 pixels on each "
                "side. Export a smaller image."
            )
            % {"width": width, "height": height}
        )
    return LOGO_FORMATS[image_format]


class MentionLanguagesField(forms.MultipleChoiceField):
    """None ticked means every language: so "none" and "all" are the same value."""

    def has_changed(self, initial, data):
        return set(initial or MENTION_LANGUAGES) != set(data or MENTION_LANGUAGES)


def mention_language_choices():
    names = {
        "fr": _("French"),
        "en": _("English"),
        "de": _("German"),
        "es": _("Spanish"),
        "it": _("Italian"),
        "pt": _("Portuguese"),
        "nl": _("Dutch"),
    }
    return [(code, names[code]) for code in MENTION_LANGUAGES]


class WorkspaceSettingsForm(forms.ModelForm):
    # A plain FileField: Django's ImageField would accept GIF, BMP… and would refuse SVG
    # with a vague message; validate_logo explains what is wrong.
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("PNG, JPEG or WebP, up to 1 MB."),
    )
    timezone = forms.ChoiceField(label=_("Time zone"))
    mention_languages = MentionLanguagesField(
        label=_("Languages of mentions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The languages mentions are recognised in; a mention in none of them is marked "
            "undetermined. Fewer languages make detection faster and more accurate. None "
            "ticked means all of them."
        ),
    )

    class Meta:
        model = Workspace
        fields = ["name", "timezone", "language", "mention_languages", "logo", "audit_digest"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices()
        self.fields["mention_languages"].choices = mention_language_choices()
        # A list, as the checkboxes post it, so an unchanged set is not reported as changed.
        self.initial["mention_languages"] = list(self.instance.mention_language_codes)

    def clean_mention_languages(self):
        chosen = self.cleaned_data.get("mention_languages") or MENTION_LANGUAGES
        return ",".join(code for code in MENTION_LANGUAGES if code in chosen)

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "content_type"):  # a new upload, not the stored file
            extension = validate_logo(logo)
            logo.name = f"{self.instance.slug}-{secrets.token_hex(6)}.{extension}"
        return logo


class WorkspaceDeleteForm(forms.Form):
    confirm = forms.CharField(
        label=_("Type the workspace address to confirm"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["confirm"].help_text = _("Type “%(slug)s”.") % {"slug": workspace.slug}

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value != self.workspace.slug:
            raise ValidationError(
                _("This is not the workspace address. Type “%(slug)s” exactly.")
                % {"slug": self.workspace.slug}
            )
        return value
