from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    LOGIN = "login", _("登录")
    LOGOUT = "logout", _("退出")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOCKED_OUT = "locked_out", _("账户锁定")
    VIEW = "view", _("查看")
    REVEAL = "reveal", _("显示脱敏信息")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    BACKUP = "backup", _("备份")
    RESTORE = "restore", _("恢复")
    KEY_ROTATION = "key_rotation", _("密钥轮换")
    ACCESS_DENIED = "access_denied", _("越权访问被拒绝")
