"""Forms of the calendar and rituals pages: moving a post to another local date and time, and
a ritual with its frequency presets (which build the RFC 5545 rule) or a free rule.

Local dates and times are read on the workspace's wall clock and turned into an instant with
rituals.to_utc, the rule rituals and queue slots follow: 9:00 stays 9:00 across a daylight
saving change, a time in a spring-forward gap moves forward by the gap, and a time that
happens twice is its first occurrence.
"""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tribu.channels.models import Channel, ChannelState
from tribu.publishing.services import rituals

# RFC 5545 weekday codes, Monday first (date.weekday() is the index).
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAYS = [
    ("MO", _("Monday")),
    ("TU", _("Tuesday")),
    ("WE", _("Wednesday")),
    ("TH", _("Thursday")),
    ("FR", _("Friday")),
    ("SA", _("Saturday")),
    ("SU", _("Sunday")),
]
NTH = [
    ("1", _("first")),
    ("2", _("second")),
    ("3", _("third")),
    ("4", _("fourth")),
    ("-1", _("last")),
]

# A post is planned for the coming years, not for the year 9999 (a typo).
MOVE_YEARS_AHEAD = 10

DAILY, WEEKLY, BIWEEKLY = "daily", "weekly", "biweekly"
MONTHLY_NTH, MONTHLY_DAY, ADVANCED = "monthly_nth", "monthly_day", "advanced"
FREQUENCIES = [
    (DAILY, _("Every day")),
    (WEEKLY, _("Every week, on the days chosen below")),
    (BIWEEKLY, _("Every two weeks, on the days chosen below")),
    (MONTHLY_NTH, _("Every month, on the Nth weekday (for example the first Tuesday)")),
    (MONTHLY_DAY, _("Every month, on a day of the month (for example the 15th)")),
    (ADVANCED, _("Advanced: my own recurrence rule")),
]


def local_moment(day, at_time, tz):
    """A local date and time in `tz` as an aware UTC instant (see the module docstring)."""
    return rituals.to_utc(datetime.combine(day, at_time.replace(tzinfo=None)), tz)


class MoveForm(forms.Form):
    """A post's new local date and time (the calendar's Move form and drag and drop)."""

    date = forms.DateField(
        label=_("New date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2026-03-10.")},
    )
    time = forms.TimeField(
        label=_("New time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Enter a time such as 09:00.")},
    )

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value.year > date.today().year + MOVE_YEARS_AHEAD:
            raise ValidationError(
                _("That date is too far ahead: choose one within the next %(years)s years."),
                code="too_far",
                params={"years": MOVE_YEARS_AHEAD},
            )
        return value

    def moment(self, tz):
        return local_moment(self.cleaned_data["date"], self.cleaned_data["time"], tz)


# Rules and presets ---------------------------------------------------------------------


def _rule_parts(rule):
    parts = {}
    for part in (rule or "").upper().removeprefix("RRULE:").split(";"):
        name, _sep, value = part.strip().partition("=")
        if name:
            parts[name] = value
    return parts


def _weekday_list(value):
    days = [day for day in value.split(",") if day]
    if days and all(day in WEEKDAY_CODES for day in days):
        return days
    return None


def preset_of(rule):
    """The form's preset fields that build `rule`, or the advanced preset with the rule."""
    parts = _rule_parts(rule)
    freq = parts.pop("FREQ", "")
    interval = parts.pop("INTERVAL", "1")
    if freq == "DAILY" and interval == "1" and not parts:
        return {"frequency": DAILY}
    if freq == "WEEKLY" and interval in ("1", "2") and set(parts) == {"BYDAY"}:
        days = _weekday_list(parts["BYDAY"])
        if days:
            return {"frequency": WEEKLY if interval == "1" else BIWEEKLY, "weekdays": days}
    if freq == "MONTHLY" and interval == "1" and set(parts) == {"BYDAY"}:
        value = parts["BYDAY"]
        nth, day = value[:-2], value[-2:]
        if day in WEEKDAY_CODES and nth in dict(NTH):
            return {"frequency": MONTHLY_NTH, "nth": nth, "nth_weekday": day}
    if freq == "MONTHLY" and interval == "1" and set(parts) == {"BYMONTHDAY"}:
        value = parts["BYMONTHDAY"]
        if value.isdigit() and 1 <= int(value) <= 31:
            return {"frequency": MONTHLY_DAY, "month_day": int(value)}
    return {"frequency": ADVANCED, "rule": rule}


def describe(rule):
    """The rule in words for the rituals list ("Every week on Tuesday")."""
    preset = preset_of(rule)
    names = dict(WEEKDAYS)
    frequency = preset["frequency"]
    if frequency == DAILY:
        return _("Every day")
    if frequency in (WEEKLY, BIWEEKLY):
        days = ", ".join(str(names[day]) for day in preset["weekdays"])
        if frequency == WEEKLY:
            return _("Every week on %(days)s") % {"days": days}
        return _("Every two weeks on %(days)s") % {"days": days}
    if frequency == MONTHLY_NTH:
        return _("Every month on the %(nth)s %(day)s") % {
            "nth": dict(NTH)[preset["nth"]],
            "day": names[preset["nth_weekday"]],
        }
    if frequency == MONTHLY_DAY:
        return _("Every month on day %(day)s") % {"day": preset["month_day"]}
    return _("Custom rule: %(rule)s") % {"rule": rule}


class RitualForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        help_text=_("Shown in the calendar on each occurrence, e.g. “#MardiConseil”."),
    )
    frequency = forms.ChoiceField(
        label=_("How often"), choices=FREQUENCIES, initial=WEEKLY, widget=forms.RadioSelect
    )
    weekdays = forms.MultipleChoiceField(
        label=_("On these days"),
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For “every week” and “every two weeks”."),
    )
    nth = forms.ChoiceField(
        label=_("Which week of the month"), choices=NTH, required=False, initial="1"
    )
    nth_weekday = forms.ChoiceField(
        label=_("Day of the week"), choices=WEEKDAYS, required=False, initial="TU"
    )
    month_day = forms.IntegerField(
        label=_("Day of the month"),
        min_value=1,
        max_value=31,
        required=False,
        help_text=_("Months without that day (the 31st in April, say) are left out."),
    )
    rule = forms.CharField(
        label=_("Recurrence rule (RFC 5545 RRULE)"),
        max_length=rituals.MAX_RULE_LENGTH,
        required=False,
        help_text=_(
            "For the advanced choice only, e.g. FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1 (the last "
            "Monday of each month). The first day and the time come from their own fields."
        ),
    )
    starts_on = forms.DateField(
        label=_("First day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2026-03-10.")},
    )
    at_time = forms.TimeField(
        label=_("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In the workspace's time zone; it stays the same across clock changes."),
        error_messages={"invalid": _("Enter a time such as 09:00.")},
    )
    channels = forms.ModelMultipleChoiceField(
        label=_("Publish on"),
        queryset=Channel.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    template = forms.CharField(
        label=_("Template text"),
        required=False,
        strip=False,  # "Our Tuesday tip: " ends where the writer goes on
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Each occurrence starts as a draft with this text; edit each one freely."),
    )
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("An inactive ritual creates no new drafts."),
    )

    def __init__(self, *args, workspace, ritual=None, **kwargs):
        if ritual is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_for(ritual)
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        on_ritual = list(ritual.channels.values_list("pk", flat=True)) if ritual else []
        # Channels one can publish on, and those already on the ritual (never dropped
        # silently because one is disabled).
        self.fields["channels"].queryset = Channel.objects.filter(workspace=workspace).filter(
            ~Q(state=ChannelState.DISABLED) | Q(pk__in=on_ritual)
        )

    def _build_rule(self, data):
        frequency = data.get("frequency")
        if frequency == DAILY:
            return "FREQ=DAILY"
        if frequency in (WEEKLY, BIWEEKLY):
            days = [code for code in WEEKDAY_CODES if code in (data.get("weekdays") or ())]
            if not days:
                self.add_error("weekdays", _("Tick at least one day of the week for this ritual."))
                return None
            interval = "INTERVAL=2;" if frequency == BIWEEKLY else ""
            return f"FREQ=WEEKLY;{interval}BYDAY={','.join(days)}"
        if frequency == MONTHLY_NTH:
            if not data.get("nth") or not data.get("nth_weekday"):
                self.add_error(
                    "nth", _("Choose which weekday of the month, e.g. the first Tuesday.")
                )
                return None
            return f"FREQ=MONTHLY;BYDAY={data['nth']}{data['nth_weekday']}"
        if frequency == MONTHLY_DAY:
            if not data.get("month_day"):
                self.add_error("month_day", _("Enter the day of the month, from 1 to 31."))
                return None
            return f"FREQ=MONTHLY;BYMONTHDAY={data['month_day']}"
        if not (data.get("rule") or "").strip():
            self.add_error(
                "rule",
                _("Write the recurrence rule, e.g. FREQ=WEEKLY;BYDAY=TU, or pick a preset above."),
            )
            return None
        return data["rule"]

    def clean(self):
        data = super().clean()
        if "frequency" not in data:
            return data
        rule = self._build_rule(data)
        if rule is None or not data.get("starts_on") or not data.get("at_time"):
            return data
        try:
            data["rule"] = rituals.validate_rule(
                rule,
                starts_on=data["starts_on"],
                at_time=data["at_time"],
                tz=self.workspace.tzinfo,
            )
        except ValidationError as error:
            self.add_error("rule" if data["frequency"] == ADVANCED else "frequency", error)
        return data


def initial_for(ritual):
    initial = {
        "name": ritual.name,
        "rule": ritual.rule,
        "starts_on": ritual.starts_on,
        "at_time": ritual.at_time,
        "channels": list(ritual.channels.values_list("pk", flat=True)),
        "template": ritual.template,
        "active": ritual.active,
    }
    initial.update(preset_of(ritual.rule))
    return initial
