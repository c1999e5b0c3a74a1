"""Forms of the template pages. A template's placeholders are checked by the model field's
validator (an unknown one is named in the error)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careloop.notify.models import LetterTemplate, SmsTemplate


def style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs.setdefault("class", css)


class SmsTemplateForm(forms.ModelForm):
    class Meta:
        model = SmsTemplate
        fields = ["name", "body", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class LetterTemplateForm(SmsTemplateForm):
    class Meta:
        model = LetterTemplate
        fields = ["name", "body", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}


class LetterBatchForm(forms.Form):
    complete = forms.BooleanField(
        label=_("生成后将所选任务标记为已完成"), required=False, initial=False
    )
