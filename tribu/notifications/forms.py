from django import forms
from django.utils.translation import gettext_lazy as _

from tribu.notifications import kinds
from tribu.notifications.models import NotificationPreference, Webhook


class PreferenceForm(forms.Form):
    email = forms.ChoiceField(
        label=_("Email me"),
        choices=NotificationPreference.Email.choices,
        widget=forms.RadioSelect,
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("No email during quiet hours: they are sent together when they end."),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In the workspace's time zone. 22:00 until 07:00 crosses midnight."),
    )
    muted_kinds = forms.MultipleChoiceField(
        label=_("Mute"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Muted notifications are neither shown here nor emailed to you."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["muted_kinds"].choices = kinds.choices()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("quiet_start"), cleaned.get("quiet_end")
        if (start is None) != (end is None) and not self.errors:
            raise forms.ValidationError(
                _("Give both the start and the end of your quiet hours, or neither.")
            )
        if start is not None and start == end:
            raise forms.ValidationError(_("Quiet hours must end at another time than they start."))
        return cleaned


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("For example: #community channel on Slack."))  # fmt: skip
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("The receiver's address, starting with https://."),
    )
    format = forms.ChoiceField(label=_("Format"), choices=Webhook.Format.choices)
    kinds = forms.MultipleChoiceField(
        label=_("Events"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to receive every event, including future ones."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = kinds.choices()
