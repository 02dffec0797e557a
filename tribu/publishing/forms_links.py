"""Forms of the short-link page (views/links.py) and the CSV import (views/csv_import.py).

Kept apart from forms.py, which the composer and the calendar also grow."""

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from tribu.channels.models import Channel, ChannelState
from tribu.publishing.services.csv_import import MAX_BYTES


class ShortenForm(forms.Form):
    # A CharField, not a URLField: services/links.py says what is wrong with an address in
    # words (not web, too long, already Tribu's), and accepts only http(s).
    url = forms.CharField(
        label=_("Address to shorten"),
        max_length=2000,
        help_text=_("The page to share, as the browser shows it: https://…"),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=_("No channel"),
        help_text=_("Sets utm_source to the channel's network, so analytics tell them apart."),
    )
    campaign = forms.CharField(
        label=_("Campaign"),
        max_length=100,
        required=False,
        help_text=_("The utm_campaign parameter; “tribu” when left empty."),
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(workspace=workspace).exclude(
            state=ChannelState.DISABLED
        )


class CsvImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, separated by commas, semicolons or tabs, with a header row; at most 2 MB "
            "and 1,000 posts."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s; the limit is %(maximum)s. Split it into several "
                    "files and import them one after the other."
                )
                % {"size": filesizeformat(upload.size), "maximum": filesizeformat(MAX_BYTES)}
            )
        return upload
