"""Forms of alert rules and campaigns. A rule is validated by the library building it."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from manyi.desk.dashboards.models import LANGUAGES
from manyi.insight.errors import InsightError
from manyi.insight.monitor import METRICS, rule_from_dict, rule_to_dict

RULE_TYPES = [
    ("threshold", _("Threshold: the metric crosses a limit")),
    ("change", _("Change: different from a baseline beyond chance (statistical test)")),
    ("anomaly", _("Anomaly: unusual for its own history (seasonal)")),
]
OPS = [(">", ">"), (">=", "≥"), ("<", "<"), ("<=", "≤")]
FREQS = [("day", _("Daily")), ("hour", _("Hourly"))]


def metric_choices() -> list[tuple[str, str]]:
    return [(name, f"{spec.title['zh']} / {spec.title['en']}") for name, spec in METRICS.items()]


class AlertRuleForm(forms.Form):
    """The common rule fields as inputs; anything else the library knows in ``advanced``."""

    name = forms.CharField(label=_("Name"), max_length=128)
    type = forms.ChoiceField(label=_("Kind"), choices=RULE_TYPES)
    metric = forms.ChoiceField(label=_("Metric"), choices=metric_choices)
    freq = forms.ChoiceField(label=_("Every"), choices=FREQS, initial="day")
    op = forms.ChoiceField(label=_("Fire when the value is"), choices=OPS, required=False)
    value = forms.FloatField(label=_("Limit (shares as fractions: 0.15 = 15 %)"), required=False)
    window = forms.IntegerField(label=_("Periods pooled"), min_value=1, initial=1)
    min_n = forms.IntegerField(label=_("Fewest units behind the value"), min_value=0, initial=0)
    cooldown = forms.IntegerField(
        label=_("Stay quiet for (periods) after sending, unless it worsens"), min_value=0, initial=0
    )
    advanced = forms.CharField(
        label=_("More settings (JSON: alpha, baseline_periods, method, sensitivity, ...)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    emails = forms.CharField(
        label=_("E-mail to (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    webhook_url = forms.URLField(
        label=_("Webhook URL"), required=False, max_length=500, assume_scheme="https"
    )
    language = forms.ChoiceField(label=_("Language of the e-mail"), choices=LANGUAGES)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    @classmethod
    def initial_from(cls, rule: Any) -> dict[str, Any]:
        """The form's fields for a stored rule; settings that differ from the library's
        defaults and have no field go to ``advanced``."""
        data = dict(rule.rule)
        fields = {"type", "metric", "freq", "op", "value", "window", "min_n", "cooldown", "id"}
        plain = {"type": data.get("type"), "metric": data.get("metric")}
        if data.get("type") == "threshold":
            plain.update(op=data.get("op", ">"), value=data.get("value", 0.0))
        defaults = rule_to_dict(rule_from_dict(plain))
        extra = {k: v for k, v in data.items() if k not in fields and defaults.get(k) != v}
        return {
            "name": rule.name,
            "type": data.get("type"),
            "metric": data.get("metric"),
            "freq": data.get("freq", "day"),
            "op": data.get("op", ""),
            "value": data.get("value"),
            "window": data.get("window", 1),
            "min_n": data.get("min_n", 0),
            "cooldown": data.get("cooldown", 0),
            "advanced": json.dumps(extra, ensure_ascii=False) if extra else "",
            "emails": rule.emails,
            "webhook_url": rule.webhook_url,
            "language": rule.language,
            "enabled": rule.enabled,
        }

    def clean_emails(self) -> str:
        text = self.cleaned_data.get("emails") or ""
        parts = [p.strip() for p in text.replace(";", ",").replace("\n", ",").split(",")]
        addresses = [p for p in parts if p]
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(
                    _("%(address)s is not an e-mail address.") % {"address": address}
                ) from None
        return "\n".join(addresses)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        rule: dict[str, Any] = {
            "type": data["type"],
            "metric": data["metric"],
            "freq": data["freq"],
            "window": data["window"],
            "min_n": data["min_n"],
            "cooldown": data["cooldown"],
        }
        if data["type"] == "threshold":
            if not data.get("op") or data.get("value") is None:
                self.add_error("value", _("A threshold rule needs a comparison and a limit."))
                return data
            rule["op"] = data["op"]
            rule["value"] = data["value"]
        advanced = (data.get("advanced") or "").strip()
        if advanced:
            try:
                extra = json.loads(advanced)
            except json.JSONDecodeError as exc:
                self.add_error("advanced", _("Not JSON: %(error)s") % {"error": exc.msg})
                return data
            if not isinstance(extra, dict):
                self.add_error("advanced", _('Write a JSON object: {"alpha": 0.01}.'))
                return data
            rule.update(extra)
        try:
            data["rule"] = rule_to_dict(rule_from_dict(rule))
        except InsightError as exc:
            self.add_error("advanced" if advanced else "type", str(exc))
        return data


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=128)
    starts_on = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    baseline_starts_on = forms.DateField(
        label=_("Baseline from (default: 4 weeks before)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    baseline_ends_on = forms.DateField(
        label=_("Baseline to (default: the day before)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    capacity = forms.IntegerField(
        label=_("Open cases the team can hold (optional)"), min_value=1, required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
