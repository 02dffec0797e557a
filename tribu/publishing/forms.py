"""Forms of the publishing pages."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from tribu.channels.models import Channel, ChannelState
from tribu.publishing.models import PostComment, PublishingSettings

# --- Publishing settings and the crisis switch (views/settings.py) -------------------------

LATE_LIMIT_MAX = 24 * 60  # a day: later than that, a post is stale by any measure


def _lines(value):
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class PublishingSettingsForm(forms.ModelForm):
    late_limit_minutes = forms.IntegerField(
        label=_("Publish late posts up to (minutes)"),
        min_value=1,
        max_value=LATE_LIMIT_MAX,
        help_text=_(
            "A post that fell due while Tribu was stopped is still published when it is at "
            "most this late; later, it waits for someone to publish it now, reschedule it or "
            "drop it. Between 1 and 1440 minutes (a day)."
        ),
    )

    class Meta:
        model = PublishingSettings
        fields = [
            "require_approval",
            "late_limit_minutes",
            "shorten_links",
            "editorial_tone",
            "words_to_avoid",
            "hashtags_to_add",
        ]
        labels = {
            "require_approval": _("Posts need approval before they are scheduled"),
            "editorial_tone": _("Tone"),
            "words_to_avoid": _("Words to avoid"),
            "hashtags_to_add": _("Hashtags to always add"),
        }
        help_texts = {
            "shorten_links": _(
                "Links in posts go through this Tribu's address (/l/…) with UTM parameters "
                "per channel, and their clicks are counted (known bots apart). Needs a public "
                "TRIBU_BASE_URL."
            ),
            "require_approval": _(
                "An approver (or the client, through a link) approves each post before it can "
                "be scheduled. Without it, editors schedule directly."
            ),
            "editorial_tone": _(
                "How the brand speaks, for the whole team: formal or friendly, “vous” or "
                "“tu”, emoji or not."
            ),
            "words_to_avoid": _("One per line. The composer warns when a draft uses one."),
            "hashtags_to_add": _(
                "One per line, such as #MaisonLumière. The composer warns when a post lacks one."
            ),
        }
        widgets = {
            "editorial_tone": forms.Textarea(attrs={"rows": 3}),
            "words_to_avoid": forms.Textarea(attrs={"rows": 4}),
            "hashtags_to_add": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_words_to_avoid(self):
        return "\n".join(dict.fromkeys(_lines(self.cleaned_data["words_to_avoid"])))

    def clean_hashtags_to_add(self):
        tags = []
        for line in _lines(self.cleaned_data["hashtags_to_add"]):
            tag = "#" + line.lstrip("#")
            if len(tag) < 2 or any(character.isspace() for character in tag):
                raise ValidationError(
                    _(
                        "“%(line)s” is not one hashtag: write one per line, without spaces "
                        "(#MardiConseil, not #Mardi Conseil)."
                    )
                    % {"line": line}
                )
            tags.append(tag)
        return "\n".join(dict.fromkeys(tags))


class PauseForm(forms.Form):
    # Not validated for length: a reason built from a long alert topic is cut to 255
    # characters by the service rather than refused in the middle of a crisis.
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        help_text=_("Shown to the team on every page while publishing is paused."),
        widget=forms.TextInput(attrs={"maxlength": 255}),
    )


# --- end of the settings forms ---------------------------------------------------------------

# Writing and reviewing posts: composer, post page, client approval (views/compose.py,
# posts.py, deliveries.py, client.py) ---------------------------------------------------------

MAX_IMAGE_BYTES = 20 * 1024 * 1024
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
COMMENT_MAX_LENGTH = PostComment._meta.get_field("text").max_length
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input read in the current time zone: the workspace's, which
    @workspace_view activates (Django makes the value aware with it)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", LOCAL_FORMATS)
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": _("Enter a date and a time, e.g. 2026-03-10 09:00."),
                "overflow": _("That date is out of range: choose a date within the next years."),
            },
        )
        super().__init__(**kwargs)


class PostImageField(forms.ImageField):
    """An image read with Pillow: refuses non-images and files over MAX_IMAGE_BYTES, and
    leaves `.image_info` (content type, size, width, height) on the uploaded file."""

    default_error_messages = {
        "invalid_image": _(
            "This file is not an image Tribu can read. Choose a JPEG, PNG, GIF or WebP picture."
        ),
    }

    def to_python(self, data):
        if data is not None and getattr(data, "size", 0) > MAX_IMAGE_BYTES:
            raise ValidationError(
                _(
                    "This image weighs %(size)s; the limit is %(limit)s. Export it smaller "
                    "(for example as a JPEG about 2,000 pixels wide) and add it again."
                ),
                code="too_big",
                params={
                    "size": filesizeformat(data.size),
                    "limit": filesizeformat(MAX_IMAGE_BYTES),
                },
            )
        upload = super().to_python(data)
        if upload is None:
            return None
        image = upload.image
        content_type = IMAGE_TYPES.get(image.format)
        if content_type is None:
            raise ValidationError(
                _(
                    "Images in %(format)s format cannot be published. Save it as JPEG, PNG, "
                    "GIF or WebP and add it again."
                ),
                code="format",
                params={"format": image.format or "?"},
            )
        width, height = image.size
        upload.image_info = {
            "content_type": content_type,
            "size": upload.size,
            "width": width,
            "height": height,
        }
        return upload


class ComposeForm(forms.Form):
    """The composer: the main text, the channels and one variant per channel, the thread's
    follow-ups (`thread`, repeated), a first comment, a time, a new image and the existing
    images' descriptions. Variant fields are `custom_<channel id>` (whether the channel has
    its own text) and `variant_<channel id>`; existing images `alt_<id>` and `remove_<id>`."""

    title = forms.CharField(
        label=_("Internal title"),
        required=False,
        max_length=200,
        help_text=_("Only the team sees it, in the calendar."),
    )
    text = forms.CharField(
        label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 7})
    )
    channels = forms.ModelMultipleChoiceField(
        label=_("Publish on"),
        queryset=Channel.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    first_comment = forms.CharField(
        label=_("First comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Published as a comment under the post where the network has comments."),
    )
    publish_at = LocalDateTimeField(label=_("Publish on (date and time)"), required=False)
    image = PostImageField(
        label=_("Add an image"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}
        ),
        help_text=_("JPEG, PNG, GIF or WebP, up to 20 MB."),
    )
    image_alt = forms.CharField(
        label=_("Description of the new image (alt text)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Describe the image for people who cannot see it."),
    )
    link_card = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, workspace, post=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.post = post
        on_post = []
        if post is not None and post.pk:
            on_post = list(post.variants.values_list("channel_id", flat=True))
        # Connected channels, and those already on the post (so an edit never drops one
        # silently because it needs reconnecting).
        self.channel_rows = list(
            Channel.objects.filter(workspace=workspace).filter(
                Q(state=ChannelState.ACTIVE) | Q(pk__in=on_post)
            )
        )
        self.fields["channels"].queryset = Channel.objects.filter(
            pk__in=[channel.pk for channel in self.channel_rows]
        )
        for channel in self.channel_rows:
            self.fields[f"custom_{channel.pk}"] = forms.BooleanField(
                label=_("Customise for %(channel)s") % {"channel": channel.name},
                required=False,
            )
            self.fields[f"variant_{channel.pk}"] = forms.CharField(
                label=_("Text for %(channel)s") % {"channel": channel.name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 5}),
            )
        self.media_rows = list(post.media.all()) if post is not None and post.pk else []
        for item in self.media_rows:
            self.fields[f"alt_{item.pk}"] = forms.CharField(
                label=_("Description (alt text)"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"remove_{item.pk}"] = forms.BooleanField(
                label=_("Remove this image"), required=False
            )

    def thread_parts(self):
        """The thread's follow-ups: repeated `thread` fields, outside Django's fields."""
        if self.is_bound:
            return [part.replace("\r\n", "\n") for part in self.data.getlist("thread")]
        return list(self.post.thread) if self.post is not None else []

    def clean_link_card(self):
        value = self.cleaned_data.get("link_card") or ""
        try:
            card = json.loads(value) if value else {}
        except ValueError:
            return {}
        if not isinstance(card, dict):
            return {}
        return {key: str(card.get(key) or "")[:1000] for key in CARD_FIELDS if card.get(key)}

    def value_of(self, name, default=None):
        """A cleaned value when the field is valid, else `default`: autosave and live
        validation keep what is usable from a form with a mistake in another field."""
        if name in getattr(self, "cleaned_data", {}):
            return self.cleaned_data[name]
        return default

    def channel_fields(self):
        """(channel, custom bound field, variant bound field) for each offered channel."""
        return [
            (channel, self[f"custom_{channel.pk}"], self[f"variant_{channel.pk}"])
            for channel in self.channel_rows
        ]

    def media_fields(self):
        return [
            (item, self[f"alt_{item.pk}"], self[f"remove_{item.pk}"]) for item in self.media_rows
        ]


CARD_FIELDS = ("url", "title", "description", "image")


class ScheduleForm(forms.Form):
    publish_at = LocalDateTimeField(label=_("Publish on (date and time)"), required=False)


class RescheduleForm(forms.Form):
    publish_at = LocalDateTimeField(label=_("New date and time"))


class MarkPublishedForm(forms.Form):
    url = forms.URLField(
        label=_("Address of the published post (optional)"),
        required=False,
        max_length=1000,
        assume_scheme="https",
    )


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PostCommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment"), max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class ApprovalLinkForm(forms.Form):
    reviewer_name = forms.CharField(
        label=_("Who will review it (optional)"), required=False, max_length=255
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=30,
        initial=7,
        error_messages={
            "required": _("Say for how many days the link works (1 to 30)."),
            "min_value": _("Give at least 1 day."),
            "max_value": _("A link is valid for at most 30 days: give 30 or less."),
        },
    )


class ClientDecisionForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"),
        max_length=255,
        error_messages={"required": _("Write your name, so the team knows who decided.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required when you ask for changes: say what should change."),
    )
    decision = forms.ChoiceField(
        choices=[("approved", _("Approve")), ("rejected", _("Ask for changes"))],
        error_messages={"required": _("Choose to approve or to ask for changes.")},
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "rejected" and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Say what should change, so the team knows."))
        return data
