"""The questionnaire form the call screen and the patient page show (Q1), and the editor's forms.

``ResponseForm(version, data)`` is built from the version's questions. Every field is optional
to Django; ``clean()`` decides what is required, because a conditional question is required only
when it is shown, and a hidden one's answer is dropped (the browser's show/hide script is a
convenience, this check is the rule).
"""

from __future__ import annotations

import json
import re

from django import forms
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from careloop.surveys.choices import (
    CHOICE_KINDS,
    QuestionKind,
    Rating,
    ResponseChannel,
)
from careloop.surveys.models import Answer, Question, Questionnaire, Response

EMPTY = (None, "", [], ())

RATING_STYLE = {
    Rating.VERY_GOOD: "btn-outline-success",
    Rating.GOOD: "btn-outline-primary",
    Rating.FAIR: "btn-outline-secondary",
    Rating.POOR: "btn-outline-danger",
}


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


def _field_for(question: Question) -> forms.Field:
    text = question.text
    invalid = _("“%(q)s”的回答不在选项中") % {"q": text}
    common = {"label": text, "help_text": question.help_text, "required": False}
    kind = question.kind
    if kind in (QuestionKind.RATING, QuestionKind.YES_NO, QuestionKind.SINGLE):
        css = "btn-check" if kind != QuestionKind.SINGLE else "form-check-input"
        return forms.ChoiceField(
            choices=question.choices(),
            widget=forms.RadioSelect(attrs={"class": css}),
            error_messages={"invalid_choice": invalid},
            **common,
        )
    if kind == QuestionKind.MULTIPLE:
        return forms.MultipleChoiceField(
            choices=question.choices(),
            widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            error_messages={"invalid_choice": invalid, "invalid_list": invalid},
            **common,
        )
    if kind == QuestionKind.SCORE:
        out_of_range = _("“%(q)s”请填写 0 到 10 之间的整数") % {"q": text}
        return forms.IntegerField(
            min_value=0,
            max_value=10,
            widget=forms.NumberInput(
                attrs={"class": "form-control survey-score", "inputmode": "numeric", "step": 1}
            ),
            error_messages={
                "invalid": out_of_range,
                "min_value": out_of_range,
                "max_value": out_of_range,
            },
            **common,
        )
    return forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
        error_messages={"max_length": _("“%(q)s”最多 2000 字") % {"q": text}},
        **common,
    )


class QuestionRow:
    """What the template needs for one question: the field and its show-condition attributes."""

    def __init__(self, form: ResponseForm, question: Question):
        self.question = question
        self.field = form[question.code]
        parent = question.condition_question
        self.condition_name = form[parent.code].html_name if parent else ""
        self.condition_values = json.dumps(list(question.condition_values)) if parent else ""
        self.is_rating = question.kind == QuestionKind.RATING
        self.is_buttons = question.kind in (QuestionKind.RATING, QuestionKind.YES_NO)
        self.number = None

    def options(self):
        """Radio/checkbox options with the button style of each rating."""
        for option in self.field:
            option.css = RATING_STYLE.get(option.data["value"], "btn-outline-primary")
            yield option


class ResponseForm(forms.Form):
    """Q1: one questionnaire version as a form; ``save()`` writes the response and its answers.

    Used by the call screen (channel "phone") and the patient page (channel "sms_link"):
    ``ResponseForm(version, data=request.POST or None)``; ``{{ form }}`` renders every question
    (include ``careloop/survey.js`` for the show/hide of conditional questions).
    """

    template_name = "surveys/partials/response_form.html"

    def __init__(self, version, data=None, prefix="q", **kwargs):
        super().__init__(data=data, prefix=prefix, **kwargs)
        self.version = version
        self.questions = list(
            version.questions.select_related("condition_question").order_by("position", "pk")
        )
        self._by_code = {q.code: q for q in self.questions}
        for question in self.questions:
            self.fields[question.code] = _field_for(question)
        self.response: Response | None = None

    def render(self, template_name=None, context=None, renderer=None):
        # The form renderer only sees app templates; this one lives in the project's templates/.
        return mark_safe(  # noqa: S308 - a template render, escaped by the template engine
            render_to_string(template_name or self.template_name, context or self.get_context())
        )

    __str__ = render
    __html__ = render

    @property
    def rows(self) -> list[QuestionRow]:
        rows, number = [], 0
        for question in self.questions:
            row = QuestionRow(self, question)
            # Follow-up questions come and go; only the questions always shown are numbered.
            if not row.condition_name:
                number += 1
                row.number = number
            rows.append(row)
        return rows

    def is_shown(self, question: Question, values: dict) -> bool:
        """A conditional question is shown when its parent is shown and answered one of the
        condition values (for a multiple choice: any of them)."""
        seen = set()
        while question.condition_question_id is not None:
            if question.pk in seen:  # a cycle the editor should have refused
                return False
            seen.add(question.pk)
            parent = question.condition_question
            value = values.get(parent.code)
            picked = {str(v) for v in value} if isinstance(value, list | tuple) else {str(value)}
            if value in EMPTY or not picked & {str(v) for v in question.condition_values}:
                return False
            question = self._by_code.get(parent.code, parent)
        return True

    def clean(self):
        data = super().clean()
        for question in self.questions:
            if question.code in self.errors:
                continue
            value = data.get(question.code)
            if isinstance(value, str):
                value = value.strip()
                data[question.code] = value
            if not self.is_shown(question, data):
                # Hidden in the browser, or the answer that showed it changed: not an answer.
                data[question.code] = None
                continue
            if question.required and value in EMPTY:
                self.add_error(question.code, _("请回答“%(q)s”") % {"q": question.text})
        return data

    def answers(self) -> list[tuple[Question, object]]:
        """(question, value) for every answered question, in order."""
        return [
            (q, self.cleaned_data[q.code])
            for q in self.questions
            if self.cleaned_data.get(q.code) not in EMPTY
        ]

    def save(
        self,
        *,
        task=None,
        patient=None,
        by=None,
        channel: str = ResponseChannel.PHONE,
        request_key: str | None = None,
    ) -> Response:
        """Write the response; idempotent on ``request_key`` (the second save returns the first
        response and writes nothing)."""
        if request_key:
            existing = Response.objects.filter(request_key=request_key).first()
            if existing is not None:
                self.response = existing
                return existing
        if not self.is_valid():
            raise ValueError("ResponseForm.save() on an invalid form")
        if patient is None and task is not None:
            patient = task.patient
        try:
            with transaction.atomic():
                response = Response.objects.create(
                    version=self.version,
                    task=task,
                    patient=patient,
                    channel=channel,
                    submitted_by=by if by is not None and by.is_authenticated else None,
                    request_key=request_key or None,
                )
                Answer.objects.bulk_create(
                    [
                        Answer(
                            response=response,
                            question=q,
                            value=value,
                            rating=value if q.kind == QuestionKind.RATING else "",
                            dimension=q.dimension if q.kind == QuestionKind.RATING else "",
                        )
                        for q, value in self.answers()
                    ]
                )
        except IntegrityError:
            # Two submits with one key at the same moment: the first one won.
            existing = request_key and Response.objects.filter(request_key=request_key).first()
            if not existing:
                raise
            response = existing
        self.response = response
        return response


# --- Editor ---------------------------------------------------------------------------------


class QuestionnaireForm(forms.ModelForm):
    class Meta:
        model = Questionnaire
        fields = ["code", "name", "audience", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Stages name the questionnaire by its code.
            self.fields["code"].disabled = True
        style(self)


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n,，;；、]+", text or "") if part.strip()]


class QuestionForm(forms.ModelForm):
    options_text = forms.CharField(
        label=_lazy("选项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_lazy("单选、多选题填写，每行一个"),
    )
    condition_values_text = forms.CharField(
        label=_lazy("显示条件：回答"),
        required=False,
        help_text=_lazy(
            "条件题的哪些回答显示本题，多个用逗号分隔；评价题填 很好/好/一般/差，是否题填 是/否"
        ),
    )

    class Meta:
        model = Question
        fields = ["code", "text", "help_text", "kind", "required", "dimension"]
        fields += ["condition_question"]

    def __init__(self, *args, version, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.version = version
        self.version = version
        parents = version.questions.exclude(kind__in=[QuestionKind.SCORE, QuestionKind.TEXT])
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["condition_question"].queryset = parents.order_by("position", "pk")
        self.fields["condition_question"].empty_label = _("（始终显示）")
        if self.instance.pk:
            self.fields["options_text"].initial = "\n".join(map(str, self.instance.options))
            parent = self.instance.condition_question
            if parent is not None:
                labels = dict(parent.choices())
                self.fields["condition_values_text"].initial = "，".join(
                    str(labels.get(v, v)) for v in self.instance.condition_values
                )
        style(self)

    def clean_code(self):
        code = self.cleaned_data["code"]
        clash = Question.objects.filter(version=self.version, code=code)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("本版本已有代码为“%(code)s”的题目") % {"code": code})
        return code

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        options = _split(data.get("options_text", "")) if kind in CHOICE_KINDS else []
        if kind in CHOICE_KINDS:
            if len(options) < 2:
                self.add_error("options_text", _("单选、多选题至少需要两个选项"))
            elif len(set(options)) != len(options):
                self.add_error("options_text", _("选项不能重复"))
        self.instance.options = options
        if data.get("dimension") and kind != QuestionKind.RATING:
            self.add_error("dimension", _("只有评价题可以设置统计维度"))
        parent = data.get("condition_question")
        wanted = _split(data.get("condition_values_text", ""))
        values = []
        if parent is not None:
            if self.instance.pk and self._depends_on_self(parent):
                self.add_error("condition_question", _("显示条件不能形成循环"))
            by_label = {str(label): value for value, label in parent.choices()}
            allowed = {value for value, _label in parent.choices()}
            for item in wanted:
                value = by_label.get(item, item)
                if value not in allowed:
                    self.add_error(
                        "condition_values_text",
                        _("“%(v)s”不是“%(q)s”的回答选项") % {"v": item, "q": parent.text},
                    )
                elif value not in values:
                    values.append(value)
            if not wanted:
                self.add_error("condition_values_text", _("请填写显示本题的回答"))
        self.instance.condition_values = values
        return data

    def _depends_on_self(self, parent: Question) -> bool:
        current, seen = parent, set()
        while current is not None and current.pk not in seen:
            if current.pk == self.instance.pk:
                return True
            seen.add(current.pk)
            current = current.condition_question
        return False


class VersionNoteForm(forms.Form):
    note = forms.CharField(label=_lazy("修订说明"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)
