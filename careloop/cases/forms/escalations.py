"""F11: the doctor's answer to a clinical escalation — acknowledge (with an optional note) or
record what was done and complete it (the record is then required)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

ACKNOWLEDGE, DONE = "acknowledge", "done"


class EscalationAnswerForm(forms.Form):
    action_taken = forms.CharField(
        label=_("处理情况"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
        help_text=_("仅确认时可不填；标记完成时必须填写。"),
    )
    action = forms.ChoiceField(
        choices=[(ACKNOWLEDGE, _("确认")), (DONE, _("记录处理情况并完成"))],
        widget=forms.HiddenInput,
        error_messages={"required": _("请选择确认或完成"), "invalid_choice": _("请选择确认或完成")},
    )

    @property
    def done(self) -> bool:
        return self.cleaned_data.get("action") == DONE

    def clean(self):
        data = super().clean()
        if data.get("action") == DONE and not (data.get("action_taken") or "").strip():
            self.add_error("action_taken", _("请填写处理情况"))
        return data
