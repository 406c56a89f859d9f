"""The customer's forms: report a problem, write on one's case, give the return tracking number.

They only parse and check input; the case services decide (and their ``CaseError.fields`` are
shown next to the fields they name, see :meth:`CustomerForm.add_case_error`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from manyi.desk.cases.errors import CaseError
from manyi.desk.cases.models import CaseChannel, CaseKind, CaseReason
from manyi.desk.cases.notifications import IncomingFile
from manyi.desk.cases.services import NewCase
from manyi.desk.channels.uploads import accept_attribute, limits, read_uploads


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleaned to a list of ``IncomingFile`` (checked kinds/sizes)."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = accept_attribute()

    def clean(self, data: Any, initial: Any = None) -> list[IncomingFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        single = super().clean
        uploads: list[UploadedFile[bytes]] = [single(f, initial) for f in files]
        return read_uploads([u for u in uploads if u])


def _files_help() -> str:
    count, each, _total = limits()
    return ngettext(
        "Up to %(count)d file (photo, video, PDF or text), %(size)s at most.",
        "Up to %(count)d files (photos, videos, PDF or text), %(size)s each at most.",
        count,
    ) % {"count": count, "size": filesizeformat(each)}


class CustomerForm(forms.Form):
    #: ``CaseError.fields`` name → this form's field.
    SERVICE_FIELDS: ClassVar[Mapping[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "attachments" in self.fields:  # the limits are settings: say the current ones
            self.fields["attachments"].help_text = _files_help()

    def add_case_error(self, error: CaseError) -> None:
        """Show a refusal of the case services next to the fields it names."""
        if not error.fields:
            self.add_error(None, error.message)
        for name, message in error.fields.items():
            field = self.SERVICE_FIELDS.get(name, name)
            self.add_error(field if field in self.fields else None, message)

    def focus_first_error(self) -> None:
        """Without JavaScript, the first field in error gets the focus (``autofocus``);
        Django already sets ``aria-invalid`` and points ``aria-describedby`` at the error."""
        for name in self.fields:
            if name in self.errors:
                self.fields[name].widget.attrs["autofocus"] = True
                return


_PHONE = re.compile(r"^[0-9+()\-\s]{5,32}$")


class NewCaseForm(CustomerForm):
    SERVICE_FIELDS: ClassVar[Mapping[str, str]] = {
        "contact_email": "email",
        "contact_name": "name",
        "contact_phone": "phone",
        "order_id": "order_number",
        "customer_id": "order_number",
        "order_lines": "order_number",
    }

    kind = forms.ChoiceField(label=_("What do you need?"), choices=CaseKind.choices)
    reason = forms.ChoiceField(
        label=_("Why?"),
        required=False,
        choices=[("", _("— Choose if it applies —")), *CaseReason.choices],
    )
    order_number = forms.CharField(
        label=_("Order number"),
        required=False,
        max_length=64,
        help_text=_("As in your order confirmation; leave it empty if you do not have it."),
    )
    subject = forms.CharField(label=_("In a few words"), max_length=200)
    description = forms.CharField(
        label=_("What happened?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachments = MultipleFileField(label=_("Photos or documents"))
    name = forms.CharField(
        label=_("Your name"),
        max_length=128,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail"),
        max_length=254,
        help_text=_("We send the link to follow your case to this address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    #: A honeypot: hidden from people (and labelled for screen readers to leave it empty);
    #: bots that fill every field give themselves away.
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    def is_spam(self) -> bool:
        return bool(self.data.get("website", "").strip())

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"].strip()
        if phone and not _PHONE.match(phone):
            raise ValidationError(_("Enter digits, spaces, +, - or brackets only."))
        return phone

    def clean_subject(self) -> str:
        return " ".join(self.cleaned_data["subject"].split())  # no line breaks in a subject

    def new_case(self, *, language: str) -> NewCase:
        data = self.cleaned_data
        return NewCase(
            kind=data["kind"],
            channel=CaseChannel.WEB,
            subject=data["subject"],
            description=data["description"].strip(),
            reason=data["reason"] or None,
            order_id=data["order_number"].strip() or None,
            contact_name=data["name"].strip(),
            contact_email=data["email"],
            contact_phone=data["phone"],
            language=language,
            attachments=tuple(data["attachments"]),
        )


class ReplyForm(CustomerForm):
    body = forms.CharField(
        label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField(label=_("Photos or documents"))

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].strip()
        if not body:
            raise ValidationError(_("Write a message."))
        return body


_TRACKING = re.compile(r"^[A-Za-z0-9\-]{6,40}$")


class TrackingForm(CustomerForm):
    carrier = forms.CharField(
        label=_("Carrier"),
        required=False,
        max_length=40,
        help_text=_("For example SF Express, JD Logistics, ZTO."),
    )
    tracking_number = forms.CharField(label=_("Return tracking number"), max_length=40)

    def clean_tracking_number(self) -> str:
        number = "".join(self.cleaned_data["tracking_number"].split()).upper()
        if not _TRACKING.match(number):
            raise ValidationError(_("Enter the number as printed: 6 to 40 letters and digits."))
        return number
