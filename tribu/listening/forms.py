"""Forms of the listening pages: stream filters, topics, sources and OPML import.

Validation that belongs to the domain (query syntax, URL safety, duplicates) lives in the
services; these forms only shape the input and show the services' errors on the right field.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from tribu.listening.models import Sentiment, Source, Topic
from tribu.listening.services import sources as source_service
from tribu.listening.views.palette import PALETTE

NETWORKS = [
    ("web", _("Web (feeds)")),
    ("mastodon", _("Mastodon")),
    ("bluesky", _("Bluesky")),
    ("reddit", _("Reddit")),
    ("hackernews", _("Hacker News")),
]
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
ORDERS = [("newest", _("Newest first")), ("relevance", _("Most relevant first"))]
READ_STATES = [("", _("Read and unread")), ("0", _("Unread only")), ("1", _("Read only"))]


class StreamFilterForm(forms.Form):
    """The stream's filter controls. It only renders them: the values are read by
    services.mentions.StreamFilters.from_params, which ignores what does not parse, so a
    stale bookmark still opens the stream. Parameter names and values are the service's
    (read=0|1, starred=1, hidden=all)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=300)
    topic = forms.ChoiceField(label=_("Topic"), required=False)
    source = forms.ChoiceField(label=_("Source"), required=False)
    network = forms.ChoiceField(
        label=_("Network"), required=False, choices=[("", _("All networks")), *NETWORKS]
    )
    lang = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All languages")), *LANGUAGES]
    )
    sentiment = forms.ChoiceField(
        label=_("Sentiment"),
        required=False,
        choices=[("", _("All sentiments")), *Sentiment.choices],
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    read = forms.ChoiceField(label=_("Read state"), required=False, choices=READ_STATES)
    order = forms.ChoiceField(label=_("Order"), required=False, choices=ORDERS)

    def __init__(self, data, *, workspace, **kwargs):
        super().__init__(data, **kwargs)
        self.topics = list(Topic.objects.filter(workspace=workspace).order_by("name", "id"))
        self.fields["topic"].choices = [("", _("All topics"))] + [
            (str(topic.id), topic.name) for topic in self.topics
        ]
        self.fields["source"].choices = [("", _("All sources"))] + [
            (str(source.id), str(source))
            for source in Source.objects.filter(workspace=workspace)
            .order_by("name", "id")
            .only("id", "name", "url")
        ]


class TopicForm(forms.ModelForm):
    colour = forms.ChoiceField(
        label=_("Colour"), choices=[(value, label) for value, label in PALETTE], initial="#2563eb"
    )

    class Meta:
        model = Topic
        fields = ["name", "kind", "colour", "query"]
        labels = {"name": _("Name"), "kind": _("Kind"), "query": _("Query")}
        help_texts = {
            "name": _("Shown on the mentions it matches, e.g. the brand's name."),
            "query": _(
                'Words, "exact phrases", AND, OR, NOT, NEAR/n, wildcards* and fields such '
                "as title: or site:."
            ),
        }
        widgets = {
            "query": forms.Textarea(
                attrs={"rows": 4, "class": "query", "spellcheck": "false", "autocomplete": "off"}
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A colour saved through the API may be outside the palette: keep it choosable.
        current = (self.instance.colour or "").lower() if self.instance.pk else ""
        if current and current not in [value for value, _label in PALETTE]:
            self.fields["colour"].choices = [*PALETTE, (current, _("Current colour"))]
        self.fields["name"].widget.attrs["autocomplete"] = "off"


class FeedSourceForm(forms.Form):
    url = forms.CharField(
        label=_("Feed or website address"),
        max_length=2000,
        help_text=_("A feed URL, or a site's address: Tribu finds the feeds the site offers."),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "url"}),
    )
    name = forms.CharField(
        label=_("Name (optional)"), required=False, max_length=source_service.NAME_MAX_LENGTH
    )


NETWORK_HELP = {
    Source.Kind.MASTODON: _("Any instance, e.g. https://mastodon.social."),
    Source.Kind.BLUESKY: _("The AppView that answers searches; the public one works for most."),
    Source.Kind.REDDIT: _("Change it only to use a mirror or a test server."),
    Source.Kind.HACKERNEWS: _("The Algolia search API; change it only for a test server."),
}
QUERY_LABELS = {
    Source.Kind.MASTODON: _("Hashtag, search terms or account"),
    Source.Kind.BLUESKY: _("Search terms"),
    Source.Kind.REDDIT: _("Search terms or subreddit"),
    Source.Kind.HACKERNEWS: _("Search terms"),
}
BASE_URL_LABELS = {
    Source.Kind.MASTODON: _("Instance address"),
    Source.Kind.BLUESKY: _("AppView address"),
    Source.Kind.REDDIT: _("Reddit address"),
    Source.Kind.HACKERNEWS: _("Search API address"),
}


class NetworkSourceForm(forms.Form):
    """One form class for the four networks: they differ by modes and defaults only."""

    mode = forms.ChoiceField(label=_("Follow"))
    query = forms.CharField(max_length=source_service.VALUE_MAX_LENGTH)
    base_url = forms.CharField(max_length=500, widget=forms.URLInput())
    name = forms.CharField(
        label=_("Name (optional)"), required=False, max_length=source_service.NAME_MAX_LENGTH
    )

    def __init__(self, *args, kind, **kwargs):
        kwargs.setdefault("prefix", kind)
        super().__init__(*args, **kwargs)
        self.kind = kind
        modes = source_service.MODES[kind]
        self.fields["mode"].choices = list(modes.items())
        if len(modes) == 1:
            self.fields["mode"].widget = forms.HiddenInput()
        self.fields["mode"].initial = next(iter(modes))
        self.fields["query"].label = QUERY_LABELS[kind]
        self.fields["base_url"].label = BASE_URL_LABELS[kind]
        self.fields["base_url"].initial = source_service.DEFAULT_BASE_URLS[kind]
        self.fields["base_url"].help_text = NETWORK_HELP[kind]

    @property
    def title(self):
        return Source.Kind(self.kind).label


class OpmlImportForm(forms.Form):
    file = forms.FileField(
        label=_("OPML file"),
        help_text=_("Exported from a feed reader (Feedly, Inoreader, NetNewsWire…)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".opml,.xml,text/xml,text/x-opml"}),
    )

    MAX_BYTES = 2 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(
                _("This file is larger than 2 MB; an OPML file of feeds is much smaller.")
            )
        return upload
