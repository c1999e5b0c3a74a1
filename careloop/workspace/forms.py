"""Forms of the call screen (F8, F9, F11, SMS) and the script editor (F10).

Every form of the call screen carries a ``request_key`` generated when the page is rendered; the
services take it, so a double submit records once.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.cases.choices import ESCALATION_REASONS
from careloop.followup.calls import PLACEHOLDERS, unknown_placeholders
from careloop.followup.choices import Adherence, AttemptOutcome, Education, Rating
from careloop.followup.forms import style
from careloop.followup.models import CallScript
from careloop.lib.masking import mask_phone


def new_key() -> str:
    return uuid.uuid4().hex


class KeyedForm(forms.Form):
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_key", new_key())
        style(self)

    @property
    def key(self) -> str | None:
        return (self.cleaned_data.get("request_key") or "").strip() or None


class PhoneChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_owner_display()} {mask_phone(obj.number)}"


class AttemptForm(KeyedForm):
    """F8: one attempt. The outcome comes from the button pressed."""

    outcome = forms.ChoiceField(label=_("拨打结果"), choices=AttemptOutcome.choices)
    phone = PhoneChoiceField(label=_("所拨号码"), queryset=None, required=False, empty_label=None)
    duration_seconds = forms.IntegerField(
        label=_("通话时长（秒）"), min_value=0, max_value=36000, required=False
    )
    agreed_at = forms.DateTimeField(
        label=_("约定时间"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("“约定改时间”时必填"),
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=500)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        phones = patient.phones.all()
        self.fields["phone"].queryset = phones
        preferred = next((p for p in phones if p.is_preferred), None)
        if preferred is not None:
            self.initial.setdefault("phone", preferred.pk)
        if not len(phones):
            self.fields["phone"].empty_label = _("无登记号码")

    def clean(self):
        data = super().clean()
        if data.get("outcome") == AttemptOutcome.RESCHEDULE and not data.get("agreed_at"):
            self.add_error("agreed_at", _("约定改时间：请填写约定的回访时间"))
        return data


class RecordForm(KeyedForm):
    """F9: the record of a completed follow-up (回访登记表)."""

    condition = forms.CharField(
        label=_("目前病情/康复情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    recovered = forms.BooleanField(label=_("已康复"), required=False)
    adherence = forms.ChoiceField(
        label=_("服药依从性"),
        choices=Adherence.choices,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    exercise_life = forms.CharField(
        label=_("锻炼与生活起居"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    education = forms.MultipleChoiceField(
        label=_("健康宣教"),
        choices=Education.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    opinions = forms.CharField(
        label=_("意见或建议"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    overall = forms.ChoiceField(
        label=_("总评价"),
        choices=Rating.choices,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        help_text=_("问卷中已有总评价时可不填，以问卷为准"),
    )
    next_follow_up = forms.DateField(
        label=_("再次回访日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("病情需要时预约再次回访（F1/F9）"),
    )

    def clean_next_follow_up(self):
        day = self.cleaned_data.get("next_follow_up")
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError(_("再次回访日期必须晚于今天"))
        return day

    def record(self) -> dict:
        data = self.cleaned_data
        return {
            "condition": data["condition"],
            "recovered": bool(data["recovered"]),
            "adherence": data["adherence"] or "",
            "exercise_life": data["exercise_life"],
            "education": list(data["education"]),
            "opinions": data["opinions"],
            "overall": data["overall"] or "",
            "next_follow_up": data["next_follow_up"],
        }


class EscalationForm(KeyedForm):
    """F11."""

    reason = forms.ChoiceField(label=_("类别"), choices=ESCALATION_REASONS)
    description = forms.CharField(
        label=_("患者反映的情况"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class SmsForm(KeyedForm):
    template = forms.ModelChoiceField(label=_("短信模板"), queryset=None, empty_label=None)
    phone = PhoneChoiceField(label=_("发送到"), queryset=None, empty_label=None)

    def __init__(self, *args, patient, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        phones = patient.phones.all()
        self.fields["phone"].queryset = phones
        preferred = next((p for p in phones if p.is_preferred), None)
        if preferred is not None:
            self.initial.setdefault("phone", preferred.pk)


# -- F10 scripts -----------------------------------------------------------------------------


def _check_placeholders(text: str) -> str:
    unknown = unknown_placeholders(text)
    if unknown:
        raise forms.ValidationError(
            _("无法识别的占位符：%(names)s；可用的占位符：%(known)s")
            % {
                "names": "、".join("{" + n + "}" for n in unknown),
                "known": "、".join("{" + n + "}" for n in PLACEHOLDERS),
            }
        )
    return text


class ScriptForm(forms.ModelForm):
    class Meta:
        model = CallScript
        fields = ["code", "name", "satisfied_reply", "dissatisfied_reply"]
        widgets = {
            "satisfied_reply": forms.Textarea(attrs={"rows": 2}),
            "dissatisfied_reply": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True  # stages name the script by its code
        style(self)

    def clean_satisfied_reply(self):
        return _check_placeholders(self.cleaned_data["satisfied_reply"])

    def clean_dissatisfied_reply(self):
        return _check_placeholders(self.cleaned_data["dissatisfied_reply"])


class StepForm(forms.Form):
    key = forms.SlugField(label=_("代码"), max_length=40, required=False)
    title = forms.CharField(label=_("步骤"), max_length=40, required=False)
    text = forms.CharField(
        label=_("话术"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)

    def clean_text(self):
        return _check_placeholders(self.cleaned_data["text"])

    def clean(self):
        data = super().clean()
        if data.get("text") and not data.get("title"):
            self.add_error("title", _("请填写步骤名称"))
        return data


class BaseStepFormSet(forms.BaseFormSet):
    def steps(self) -> list[dict]:
        steps = []
        for i, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or not (data.get("title") or data.get("text")):
                continue
            steps.append(
                {
                    "key": data.get("key") or f"step{i + 1}",
                    "title": data["title"],
                    "text": data["text"],
                }
            )
        return steps

    def clean(self):
        if any(self.errors):
            return
        if not self.steps():
            raise forms.ValidationError(_("话术至少需要一个步骤"))


StepFormSet = forms.formset_factory(StepForm, formset=BaseStepFormSet, extra=2, can_delete=True)


def sample_task(agent=None):
    """F10 preview: a sample patient shaped like a task, for ``render_script``."""
    from types import SimpleNamespace

    now = timezone.now()
    return SimpleNamespace(
        patient=SimpleNamespace(name="张三", title="先生"),
        department=SimpleNamespace(name="心血管内科"),
        visit=SimpleNamespace(
            discharged_at=now - dt.timedelta(days=7), visit_at=now - dt.timedelta(days=12)
        ),
    )
