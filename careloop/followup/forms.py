"""Forms of the policy pages (F5) and the task actions (F12, E7). Validation of a stage is the
model's own ``clean()``; the forms add only what the model cannot see (the policy it belongs to,
unique codes within the policy) and Chinese widgets."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careloop.accounts.models import User
from careloop.accounts.roles import Role
from careloop.followup.models import Policy, Stage
from careloop.org.choices import DepartmentKind
from careloop.org.models import Department
from careloop.patients.choices import VisitType

TRI_STATE = [("unknown", _("不限")), ("true", _("是")), ("false", _("否"))]


class TriStateSelect(forms.NullBooleanSelect):
    """不限 / 是 / 否 for the nullable visit flags of a stage."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = TRI_STATE


def style(form: forms.BaseForm) -> None:
    """Bootstrap classes on every widget, so the templates can render ``{{ field }}``."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs.setdefault("class", css)


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = [
            "name",
            "description",
            "source",
            "call_hours",
            "target_rate",
            "sensitive_icd10",
            "effective_from",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "sensitive_icd10": forms.Textarea(attrs={"rows": 2}),
            "effective_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class StageForm(forms.ModelForm):
    visit_types = forms.MultipleChoiceField(
        label=_("就诊类型"),
        choices=VisitType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("都不选表示不限"),
    )
    department_kinds = forms.MultipleChoiceField(
        label=_("科室类别"),
        choices=DepartmentKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("都不选表示不限"),
    )

    class Meta:
        model = Stage
        fields = [
            "code",
            "name",
            "position",
            "visit_types",
            "department_kinds",
            "departments",
            "first_visit",
            "lost",
            "special",
            "chronic",
            "min_cost",
            "age_min",
            "age_max",
            "diagnosis_codes",
            "anchor",
            "depends_on",
            "after_recovery",
            "window_start_day",
            "window_end_day",
            "channel",
            "assignee_role",
            "questionnaire",
            "script",
            "repeat",
            "repeat_every_days",
            "repeat_max",
        ]
        widgets = {
            "first_visit": TriStateSelect,
            "lost": TriStateSelect,
            "special": TriStateSelect,
            "chronic": TriStateSelect,
            "departments": forms.SelectMultiple(attrs={"size": 6}),
        }

    def __init__(self, *args, policy: Policy, **kwargs):
        super().__init__(*args, **kwargs)
        # The model's clean() compares depends_on.policy with the stage's own policy.
        self.instance.policy = policy
        self.policy = policy
        others = policy.stages.all()
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["depends_on"].queryset = others.order_by("position", "pk")
        self.fields["departments"].queryset = Department.objects.filter(is_active=True).order_by(
            "code"
        )
        self.fields["departments"].help_text = _("不选表示不限；按住 Ctrl 可多选")
        self.fields["depends_on"].empty_label = _("（无）")
        style(self)

    def _post_clean(self):
        # Stage.clean() compares the window days and cannot run without the first one; the
        # form already says that it is required.
        if "window_start_day" in self.errors:
            return
        super()._post_clean()

    def clean_code(self):
        code = self.cleaned_data["code"]
        clash = Stage.objects.filter(policy=self.policy, code=code)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("本制度已有代码为“%(code)s”的阶段") % {"code": code})
        return code


def last_month(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The previous calendar month: the default range of a stage preview."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


class PreviewRangeForm(forms.Form):
    preview_start = forms.DateField(
        label=_("起算日期从"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    preview_end = forms.DateField(
        label=_("至"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    MAX_DAYS = 366

    def __init__(self, *args, **kwargs):
        start, end = last_month()
        kwargs.setdefault("initial", {"preview_start": start, "preview_end": end})
        super().__init__(*args, **kwargs)
        style(self)

    def clean(self):
        data = super().clean()
        start, end = data.get("preview_start"), data.get("preview_end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("预览的截止日期不能早于起始日期"))
            if (end - start).days >= self.MAX_DAYS:
                raise forms.ValidationError(_("预览范围最长一年"))
        return data


class LiftExclusionForm(forms.Form):
    note = forms.CharField(
        label=_("解除说明"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("必填：说明排除条件为何已不成立（如纠纷已处理完毕）"),
        error_messages={"required": _("请填写解除说明")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError(_("请填写解除说明"))
        return note


# F12: who can take over follow-up work.
ASSIGNABLE_ROLES = (Role.AGENT, Role.NURSE, Role.DOCTOR, Role.HEAD_NURSE, Role.DEPT_HEAD)


def assignable_users(user):
    qs = User.objects.filter(is_active=True, groups__name__in=ASSIGNABLE_ROLES)
    if user.scope != "all":
        qs = qs.filter(departments__in=user.department_ids)
    return qs.distinct().order_by("username")


class ReassignForm(forms.Form):
    to_user = forms.ModelChoiceField(
        label=_("改派给"),
        queryset=User.objects.none(),
        error_messages={
            "required": _("请选择改派对象"),
            "invalid_choice": _("所选人员不可改派"),
        },
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = assignable_users(user)
        self.fields["to_user"].label_from_instance = lambda u: (
            f"{u.display_name}（{u.staff_no or u.username}）"
        )
        style(self)
