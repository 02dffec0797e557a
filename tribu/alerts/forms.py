from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tribu.alerts.models import AlertRule
from tribu.alerts.services.alerts import COMMENT_MAX_LENGTH


class RuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ["sensitivity", "watch_volume", "watch_negative"]
        widgets = {"sensitivity": forms.RadioSelect}
        help_texts = {
            "watch_volume": _("Alert when the topic gets far more mentions than usual."),
            "watch_negative": _("Alert when the topic gets far more negative mentions than usual."),
        }

    def clean(self):
        data = super().clean()
        if data.get("sensitivity") != "off" and not (
            data.get("watch_volume") or data.get("watch_negative")
        ):
            raise ValidationError(
                _(
                    "Choose what to watch (all mentions, negative mentions or both), "
                    "or set the sensitivity to Off to stop alerts for this topic."
                )
            )
        return data


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
