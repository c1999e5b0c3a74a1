"""Forms of the case pages (C2–C4): intake (also used, shortened, on the call screen), edit, the
step actions of the status flow, notes, attachments, the C3 re-follow-up, and the two setup pages
(category tree, deadline rules). Validation that needs no database lives here; every state
change is a call into ``careloop.cases.services``."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careloop.accounts.models import User, is_mainland_mobile
from careloop.cases.choices import (
    CaseKind,
    CaseSource,
    CaseStatus,
    DeadlineSubject,
    Finding,
    RefollowOutcome,
    Severity,
)
from careloop.cases.models import CaseCategory, DeadlineRule
from careloop.followup.forms import style
from careloop.lib.masking import normalize_phone
from careloop.org.models import Department
from careloop.patients.models import Patient

# A landline with its area code: 0 + 2–3 digits of area code + a 7–8 digit number.
LANDLINE_RE = re.compile(r"^0\d{9,11}$")


def clean_contact_phone(value: str) -> str:
    """An 11-digit mainland mobile or a landline with area code; stored as digits."""
    value = (value or "").strip()
    if not value:
        return ""
    digits = normalize_phone(value)
    if is_mainland_mobile(value) or LANDLINE_RE.match(digits):
        return digits
    raise forms.ValidationError(
        _("请输入 11 位手机号或带区号的固定电话（如 13800138000、0712-8451234）。"),
        code="invalid_phone",
    )


# --- the category select: grouped by the tree, each option knows its kind -------------------


class CategorySelect(forms.Select):
    """Options carry ``data-kind`` so the page can hide categories of another kind (a praise
    category is not offered for a complaint); the server checks it again in ``clean``."""

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        kind = self.kinds.get(str(value), "")
        if kind:
            option["attrs"]["data-kind"] = kind
        return option


def usable_categories() -> list[CaseCategory]:
    """Active categories whose ancestors are all active, in tree order."""
    cats = list(CaseCategory.objects.order_by("position", "pk"))
    by_id = {c.pk: c for c in cats}

    def usable(cat, seen=()):
        while cat is not None:
            if not cat.is_active or cat.pk in seen:
                return False
            seen = (*seen, cat.pk)
            cat = by_id.get(cat.parent_id)
        return True

    return [c for c in cats if usable(c)]


def category_tree(categories: list[CaseCategory]) -> list[tuple[CaseCategory, int]]:
    """(category, depth) in display order: each parent followed by its children."""
    children: dict[int | None, list[CaseCategory]] = {}
    ids = {c.pk for c in categories}
    for cat in categories:
        parent = cat.parent_id if cat.parent_id in ids else None
        children.setdefault(parent, []).append(cat)
    ordered: list[tuple[CaseCategory, int]] = []

    def walk(parent, depth, seen):
        for cat in children.get(parent, []):
            if cat.pk in seen:
                continue
            ordered.append((cat, depth))
            walk(cat.pk, depth + 1, seen | {cat.pk})

    walk(None, 0, frozenset())
    return ordered


def category_choices(categories: list[CaseCategory]) -> list:
    """Top-level categories without children are plain options; a parent with children becomes
    an optgroup holding itself and its descendants."""
    choices: list = [("", "---------")]
    group = None
    for cat, depth in category_tree(categories):
        if depth == 0:
            group = None
            if any(c.parent_id == cat.pk for c in categories):
                group = [(cat.pk, cat.name)]
                choices.append((cat.name, group))
            else:
                choices.append((cat.pk, cat.name))
        elif group is not None:
            label = cat.path.split(" › ", 1)[-1] if depth > 1 else cat.name
            group.append((cat.pk, label))
    return choices


class CategoryField(forms.ModelChoiceField):
    """Built per form (in ``__init__``), never at import: the tree is data."""

    def __init__(self, **kwargs):
        categories = usable_categories()
        kinds = {str(c.pk): c.kind for c in categories}
        super().__init__(
            queryset=CaseCategory.objects.filter(pk__in=[c.pk for c in categories]),
            required=False,
            label=_("分类"),
            widget=CategorySelect(kinds=kinds, attrs={"data-category-select": ""}),
            **kwargs,
        )
        self.choices = category_choices(categories)


class StaffField(forms.ModelMultipleChoiceField):
    """Staff of the departments, grouped by department (a person of two departments appears
    under both). Built per form, never at import."""

    def __init__(self, **kwargs):
        queryset = User.objects.filter(is_active=True, departments__isnull=False).distinct()
        super().__init__(queryset=queryset, required=False, label=_("涉及人员"), **kwargs)
        groups: dict[int, tuple[str, list]] = {}
        rows = (
            User.departments.through.objects.filter(user__is_active=True)
            .select_related("user", "department")
            .order_by("department__code", "user__full_name", "user__username")
        )
        for row in rows:
            _name, items = groups.setdefault(row.department_id, (row.department.name, []))
            items.append((row.user_id, row.user.display_name))
        self.choices = [(name, items) for name, items in groups.values()]
        self.widget.attrs.update({"data-staff-select": "", "size": 6})
        self.group_departments = {name: dept_id for dept_id, (name, _i) in groups.items()}


# --- intake and edit --------------------------------------------------------------------------


class CaseFactsForm(forms.Form):
    """C2: what a case is about — shared by intake and edit."""

    kind = forms.ChoiceField(
        label=_("类型"),
        choices=CaseKind.choices,
        initial=CaseKind.COMPLAINT,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择类型")},
    )
    source = forms.ChoiceField(label=_("来源"), choices=CaseSource.choices, initial="hotline")
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=CaseCategory.objects.none(), required=False
    )  # replaced by a CategoryField in __init__
    severity = forms.ChoiceField(
        label=_("严重程度"), choices=Severity.choices, initial=Severity.GENERAL
    )
    summary = forms.CharField(
        label=_("摘要"), max_length=120, error_messages={"required": _("请填写摘要")}
    )
    description = forms.CharField(
        label=_("内容"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写内容")},
    )
    contact_name = forms.CharField(label=_("反映人"), max_length=64, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("手机或带区号的固定电话；有电话或病历号，结案后才能回访患者。"),
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("涉及科室"),
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6, "data-department-select": ""}),
    )
    staff = forms.ModelMultipleChoiceField(
        label=_("涉及人员"), queryset=User.objects.none(), required=False
    )  # replaced by a StaffField in __init__
    staff_names = forms.CharField(
        label=_("涉及人员（其他）"),
        max_length=200,
        required=False,
        help_text=_("系统中没有账号的人员，或不知道姓名时的描述（如“3 号窗口收费员”）。"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"] = CategoryField()
        self.fields["staff"] = StaffField()
        style(self)

    def clean_contact_phone(self):
        return clean_contact_phone(self.cleaned_data.get("contact_phone"))

    def clean(self):
        data = super().clean()
        kind, category = data.get("kind"), data.get("category")
        if category is not None and kind and category.kind and category.kind != kind:
            self.add_error(
                "category",
                _("分类“%(category)s”只用于%(kind)s") % {
                    "category": category.path, "kind": CaseKind(category.kind).label,
                },
            )  # fmt: skip
        departments = list(data.get("departments") or [])
        staff = list(data.get("staff") or [])
        if staff and "departments" not in self.errors:
            chosen = {d.pk for d in departments}
            outside = [u for u in staff if not (set(u.department_ids) & chosen)]
            if outside:
                self.add_error(
                    "staff",
                    _("涉及人员须属于所选的涉及科室：%(names)s")
                    % {"names": "、".join(u.display_name for u in outside)},
                )
        user = self.user
        own = user is not None and user.scope == "own" and "departments" not in self.errors
        # An own-department user would lose sight of a case outside their departments (O3).
        if own and not any(d.pk in user.department_ids for d in departments):
            self.add_error("departments", _("请至少选择一个本科室，否则登记后您将无法查看"))
        return data


class CaseIntakeForm(CaseFactsForm):
    """C2 intake, quick enough to fill during a phone call."""

    patient_no = forms.CharField(
        label=_("病历号"),
        max_length=64,
        required=False,
        help_text=_("患者的病历号（可不填）。"),
    )
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    field_order = [
        "kind", "source", "category", "severity", "summary", "description", "contact_name",
        "contact_phone", "patient_no", "departments", "staff", "staff_names",
    ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)
            if self.user is not None and self.user.scope == "own":
                self.initial.setdefault("departments", sorted(self.user.department_ids))

    def clean_patient_no(self):
        value = (self.cleaned_data.get("patient_no") or "").strip()
        if not value:
            return None
        patients = Patient.objects.visible_to(self.user) if self.user else Patient.objects.none()
        patient = patients.filter(patient_no=value).select_related("merged_into").first()
        if patient is None:
            raise forms.ValidationError(
                _("未找到病历号为 %(no)s 的患者") % {"no": value}, code="unknown_patient"
            )
        # A merged record points at the survivor (P-merge): the case belongs there.
        return patient.merged_into or patient

    @property
    def key(self) -> str | None:
        return (self.cleaned_data.get("request_key") or "").strip() or None


class CaseEditForm(CaseFactsForm):
    handler = forms.ModelChoiceField(
        label=_("承办人"),
        queryset=User.objects.none(),
        required=False,
    )
    note = forms.CharField(label=_("修改说明"), max_length=500, required=False)

    def __init__(self, *args, case=None, **kwargs):
        if case is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "kind": case.kind, "source": case.source, "category": case.category_id,
                "severity": case.severity, "summary": case.summary,
                "description": case.description, "contact_name": case.contact_name,
                "staff_names": case.staff_names,
                "departments": [d.pk for d in case.departments.all()],
                "staff": [u.pk for u in case.staff.all()], "handler": case.handler_id,
            }  # fmt: skip
        super().__init__(*args, **kwargs)
        handlers = Q(groups__permissions__codename="handle_case") | Q(
            pk=case.handler_id if case else None
        )
        self.fields["handler"].queryset = (
            User.objects.filter(handlers, is_active=True).distinct().order_by("full_name", "username")
        )  # fmt: skip
        self.fields["handler"].label_from_instance = lambda u: u.display_name
        # P3: the edit page does not put the number in clear into the page (the case page
        # reveals it through an audited button); blank keeps the number on file.
        self.case = case
        if case is not None and case.contact_phone:
            self.fields["contact_phone"].help_text = _("留空则保留原号码（%(masked)s）") % {
                "masked": case._meta.get_field("contact_phone").masked(case)
            }
        style(self)

    def clean(self):
        data = super().clean()
        handler, case = data.get("handler"), self.case
        if handler is not None and case is not None and handler.pk != case.handler_id:
            # The handler must be able to open the case, or reminders go to someone who
            # gets a 404 and the real owners are never told (O3).
            departments = {d.pk for d in data.get("departments") or []}
            if handler.scope != "all" and not (set(handler.department_ids) & departments):
                self.add_error(
                    "handler",
                    _("%(name)s 不属于涉及科室，无法查看本案件，请另选承办人")
                    % {"name": handler.display_name},
                )
        return data


def intake_values(form: CaseFactsForm) -> dict:
    """The keyword arguments of ``register_case``/``update_case`` from a valid form."""
    data = form.cleaned_data
    return {
        "kind": data["kind"],
        "source": data["source"],
        "category": data.get("category"),
        "severity": data["severity"],
        "summary": data["summary"],
        "description": data["description"],
        "contact_name": data.get("contact_name", ""),
        "contact_phone": data.get("contact_phone", ""),
        "staff_names": data.get("staff_names", ""),
    }


class CallCaseForm(forms.Form):
    """The "登记投诉/意见/表扬" panel of the call screen: the patient, visit and department come
    from the task."""

    kind = CaseFactsForm.base_fields["kind"]
    category = CaseFactsForm.base_fields["category"]
    severity = CaseFactsForm.base_fields["severity"]
    summary = CaseFactsForm.base_fields["summary"]
    description = forms.CharField(
        label=_("内容"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写内容")},
    )
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The category field builds its choices when created; a fresh one sees today's tree.
        self.fields["category"] = CategoryField()
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)
        style(self)

    def clean(self):
        data = super().clean()
        kind, category = data.get("kind"), data.get("category")
        if category is not None and kind and category.kind and category.kind != kind:
            self.add_error(
                "category",
                _("分类“%(category)s”只用于%(kind)s") % {
                    "category": category.path, "kind": CaseKind(category.kind).label,
                },
            )  # fmt: skip
        return data

    @property
    def key(self) -> str | None:
        return (self.cleaned_data.get("request_key") or "").strip() or None


# --- the status flow --------------------------------------------------------------------------

# What each step asks for (C2): 调查核实 the investigation; 处理 the finding, who is responsible
# and the measure; 答复患者 the reply. A form for a later step also asks for what the skipped
# steps would have asked (a minor complaint answered on the spot, seed 001 四).
STEP_FIELDS = {
    CaseStatus.ACCEPTED: [],
    CaseStatus.INVESTIGATING: ["investigation"],
    CaseStatus.HANDLING: [
        "investigation", "finding", "responsible_department", "responsible_person", "measure",
    ],
    CaseStatus.REPLIED: ["reply"],
    CaseStatus.CLOSED: [],
}  # fmt: skip
HANDLING_FIELDS = ["finding", "responsible_department", "responsible_person", "measure"]
FLOW = list(STEP_FIELDS)
ORDER = {s: i for i, s in enumerate([CaseStatus.REGISTERED, *FLOW])}


def step_fields(case, target: str, closing_problems: list[str]) -> list[str]:
    names: list[str] = []
    for step in FLOW:
        if ORDER[case.status] < ORDER[step] <= ORDER[target]:
            names += [n for n in STEP_FIELDS[step] if n not in names]
    if ORDER[target] >= ORDER[CaseStatus.REPLIED]:
        if any("答复" not in p for p in closing_problems):
            names += [n for n in HANDLING_FIELDS if n not in names]
        if not case.reply.strip() and "reply" not in names:
            names.append("reply")
    return [n for n in FORM_ORDER if n in names] + ["note"]


FORM_ORDER = ["investigation", "finding", "responsible_department", "responsible_person",
              "measure", "reply"]  # fmt: skip


class AdvanceForm(forms.Form):
    """One step forward (C2); only the fields of that step are kept."""

    investigation = forms.CharField(
        label=_("调查核实情况"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    finding = forms.ChoiceField(
        label=_("核实结论"), choices=Finding.choices, required=False, widget=forms.RadioSelect
    )
    responsible_department = forms.ModelChoiceField(
        label=_("责任科室"),
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        required=False,
    )
    responsible_person = forms.CharField(label=_("责任人"), max_length=64, required=False)
    measure = forms.CharField(
        label=_("处理措施"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    reply = forms.CharField(
        label=_("答复患者内容"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    note = forms.CharField(label=_("说明"), max_length=1000, required=False)

    def __init__(self, *args, case, target: str, problems=(), **kwargs):
        kwargs.setdefault("prefix", f"to-{target}")
        initial = kwargs.setdefault("initial", {})
        for name in FORM_ORDER:
            value = getattr(case, f"{name}_id" if name == "responsible_department" else name)
            initial.setdefault(name, value)
        super().__init__(*args, **kwargs)
        self.target = target
        self.label = CaseStatus(target).label
        keep = step_fields(case, target, list(problems))
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        style(self)

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "note"}


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("备注"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": _("备注不能为空")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("附件"), error_messages={"required": _("请选择要上传的文件")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class RefollowForm(forms.Form):
    """C3: did the answer satisfy the patient?"""

    outcome = forms.ChoiceField(
        label=_("患者是否满意"),
        choices=RefollowOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择患者是否满意")},
    )
    note = forms.CharField(label=_("患者意见"), max_length=1000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


# --- setup ------------------------------------------------------------------------------------


class CategoryForm(forms.ModelForm):
    class Meta:
        model = CaseCategory
        fields = ["parent", "name", "code", "kind", "position"]
        error_messages = {"code": {"unique": _("代码已被其他分类使用")}}
        help_texts = {"code": _("英文字母、数字和连字符，如 attitude-nurse。")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = CaseCategory.objects.order_by("position", "pk")
        if self.instance.pk:
            parents = parents.exclude(pk__in=self._subtree_ids())
        self.fields["parent"].queryset = parents
        self.fields["parent"].label_from_instance = lambda c: c.path
        self.fields["kind"].choices = [("", _("任意类型")), *CaseKind.choices]
        style(self)

    def _subtree_ids(self) -> set[int]:
        ids, frontier = {self.instance.pk}, [self.instance.pk]
        while frontier:
            frontier = list(
                CaseCategory.objects.filter(parent_id__in=frontier)
                .exclude(pk__in=ids)
                .values_list("pk", flat=True)
            )
            ids.update(frontier)
        return ids

    def clean(self):
        data = super().clean()
        parent, kind = data.get("parent"), data.get("kind", "")
        if parent is not None and self.instance.pk and parent.pk in self._subtree_ids():
            self.add_error("parent", _("上级分类不能是本分类或其下级"))
        if parent is not None and parent.kind and kind != parent.kind:
            self.add_error(
                "kind",
                _("上级分类只用于%(kind)s，子分类须相同") % {"kind": CaseKind(parent.kind).label},
            )
        return data


class DeadlineRuleForm(forms.ModelForm):
    """C3: a rule per subject, kind and severity (blank = any)."""

    class Meta:
        model = DeadlineRule
        fields = ["subject", "kind", "severity", "amount", "unit", "warn_hours", "second_after"]
        error_messages = {
            "amount": {"min_value": _("期限至少为 1"), "required": _("请填写期限")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("任意类型")), *CaseKind.choices]
        self.fields["severity"].choices = [("", _("任意严重程度")), *Severity.choices]
        style(self)

    def validate_constraints(self, exclude=None):
        # The unique constraint is checked in ``clean`` with a message the user can act on.
        pass

    def clean(self):
        data = super().clean()
        subject = data.get("subject")
        kind, severity = data.get("kind", ""), data.get("severity", "")
        by_kind = (DeadlineSubject.CASE, DeadlineSubject.REFOLLOW)
        if subject and subject not in by_kind and (kind or severity):
            self.add_error(
                None, _("“%(subject)s”不区分类型和严重程度，请选“任意”")
                % {"subject": DeadlineSubject(subject).label},
            )  # fmt: skip
            return data
        if subject:
            clash = DeadlineRule.objects.filter(subject=subject, kind=kind, severity=severity)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error(
                    None,
                    _("已有相同的规则：%(subject)s · %(kind)s · %(severity)s，请直接修改该规则")
                    % {
                        "subject": DeadlineSubject(subject).label,
                        "kind": CaseKind(kind).label if kind else _("任意类型"),
                        "severity": Severity(severity).label if severity else _("任意严重程度"),
                    },
                )
        return data


class DeadlineRuleEditForm(DeadlineRuleForm):
    """The inline edit of a row: the subject, kind and severity stay."""

    class Meta(DeadlineRuleForm.Meta):
        fields = ["amount", "unit", "warn_hours", "second_after"]

    def __init__(self, *args, **kwargs):
        forms.ModelForm.__init__(self, *args, **kwargs)
        style(self)

    def clean(self):
        return forms.ModelForm.clean(self)
