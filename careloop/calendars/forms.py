from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _

from careloop.calendars.models import CalendarDay

MAX_UPLOAD_KB = 512


class CalendarDayForm(forms.Form):
    """One day of the hospital's table (F6). Saved by ``services.save_override``."""

    date = forms.DateField(
        label=_("日期"),
        input_formats=["%Y-%m-%d", "%Y/%m/%d"],
        error_messages={
            "required": _("请填写日期。"),
            "invalid": _("日期格式不对，应为 YYYY-MM-DD，如 2027-10-09。"),
        },
    )
    is_workday = forms.TypedChoiceField(
        label=_("这一天"),
        choices=[("1", _("上班（工作日）")), ("0", _("休息（放假）"))],
        coerce=lambda v: v == "1",
        error_messages={"required": _("请选择这一天上班还是休息。")},
    )
    name = forms.CharField(
        label=_("名称"),
        max_length=64,
        required=False,
        help_text=_("如“国庆节”“国庆节调休上班”“院庆放假”，最多 64 个字。"),
        error_messages={
            "max_length": _("名称最多 %(limit_value)d 个字（现在 %(show_value)d 个）。")
        },
    )

    def __init__(self, *args, instance: CalendarDay | None = None, **kwargs):
        self.instance = instance
        if instance is not None and not kwargs.get("initial"):
            kwargs["initial"] = {
                "date": instance.date,
                "is_workday": "1" if instance.is_workday else "0",
                "name": instance.name,
            }
        super().__init__(*args, **kwargs)

    def clean_date(self):
        day = self.cleaned_data["date"]
        taken = CalendarDay.objects.filter(date=day)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                _("%(date)s 已有一条调整，请在列表中编辑那一条，不要重复添加。"),
                params={"date": day.isoformat()},
            )
        return day


class CalendarUploadForm(forms.Form):
    file = forms.FileField(
        label=_("官方日历文件（.csv）"),
        error_messages={"required": _("请选择要上传的文件。")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in (".csv", ".txt"):
            raise forms.ValidationError(
                _("不支持的文件类型“%(s)s”：请上传 .csv 文件。") % {"s": suffix or _("无扩展名")}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("文件是空的。"))
        if upload.size > MAX_UPLOAD_KB * 1024:
            raise forms.ValidationError(
                _("文件超过 %(n)d KB：一年的日历文件只有几十行，请检查是否选错了文件。")
                % {"n": MAX_UPLOAD_KB}
            )
        return upload
