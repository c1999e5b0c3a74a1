from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_MB = 200


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("HIS 导出文件（.csv 或 .xlsx）"))
    strict = forms.BooleanField(label=_("严格模式：有任何一行出错则全部不导入"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise forms.ValidationError(
                _("不支持的文件类型“%(s)s”：请上传 .csv 或 .xlsx 文件。")
                % {"s": suffix or _("无扩展名")}
            )
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("文件超过 %(n)d MB，请分批导出或用命令行导入。") % {"n": MAX_UPLOAD_MB}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("文件是空的。"))
        return upload
