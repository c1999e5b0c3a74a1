"""O2 roles and O3 scope.

A role is a Django group whose name is the role's slug; its permissions are declared here and
synchronised after every migrate, so code and database never drift. A person may hold several
roles. O3: roles either see every department, only their own departments, or no department-scoped
records at all (leadership reads aggregates; the three admin duties see only their own tools).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "followup_agent", _("回访员")
    NURSE = "nurse", _("责任护士")
    DOCTOR = "doctor", _("主管医生")
    DEPT_HEAD = "dept_head", _("科主任")
    HEAD_NURSE = "head_nurse", _("护士长")
    SUPERVISOR = "service_supervisor", _("客服主管/经理")
    MEDICAL_AFFAIRS = "medical_affairs", _("医务科")
    NURSING_DEPT = "nursing_dept", _("护理部")
    CONSULTANT = "consultant", _("咨询员")
    DISPATCHER = "dispatcher", _("调度员")
    PORTER = "porter", _("运送/陪检员")
    LEADERSHIP = "leadership", _("院领导")
    SYSADMIN = "sysadmin", _("系统管理员")
    SECADMIN = "secadmin", _("安全管理员")
    AUDITOR = "auditor", _("审计员")
    # Not a person: the account a HIS vendor's system pushes data with (P4.3, token auth).
    HIS_CLIENT = "his_client", _("HIS 接口账户")


class Scope(models.TextChoices):
    ALL = "all", _("全院")
    OWN = "own", _("本科室")
    NONE = "none", _("无")


# O3: the service centre and medical/nursing affairs work across the hospital.
ALL_DEPARTMENT_ROLES = frozenset(
    {
        Role.AGENT,
        Role.SUPERVISOR,
        Role.MEDICAL_AFFAIRS,
        Role.NURSING_DEPT,
        Role.CONSULTANT,
        Role.DISPATCHER,
        Role.SYSADMIN,
        Role.HIS_CLIENT,
        # R3: leadership reads the hospital's numbers (reports only; no patient lists).
        Role.LEADERSHIP,
    }
)
OWN_DEPARTMENT_ROLES = frozenset(
    {Role.NURSE, Role.DOCTOR, Role.DEPT_HEAD, Role.HEAD_NURSE, Role.PORTER}
)

# 三员分立: the three admin duties are never held by one person.
ADMIN_DUTIES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR})

ORG_READ = ["org.view_department", "org.view_campus", "org.view_team", "org.view_shiftpattern"]
ROSTER_READ = ["org.view_rosterentry"]
ROSTER_WRITE = ["org.add_rosterentry", "org.change_rosterentry", "org.delete_rosterentry"]
ORG_WRITE = [
    f"org.{action}_{model}"
    for model in ("department", "campus", "team", "shiftpattern", "rosterentry")
    for action in ("add", "change", "delete")
]

PATIENT_READ = [
    "patients.view_patient",
    "patients.view_visit",
    "patients.view_patientphone",
    "patients.view_diagnosis",
    "patients.view_patientevent",
]
REVEAL = ["patients.reveal_patient"]
IMPORT = ["intake.add_importrun", "intake.view_importrun"]
HL7_ADMIN = ["intake.view_hl7message", "intake.change_hl7message"]

# F1–F7, F12, E7: follow-up policies and tasks.
POLICY_READ = ["followup.view_policy", "followup.view_stage"]
POLICY_WRITE = [
    "followup.change_policy",
    "followup.add_stage",
    "followup.change_stage",
    "followup.delete_stage",
]
TASK_READ = ["followup.view_followuptask", "followup.view_taskevent"]
LIFT_EXCLUSION = ["followup.lift_exclusion"]
REASSIGN = ["followup.reassign_task"]
TASK_EXPORT = ["followup.export_task"]
# F8–F11, Q1–Q4: calls, records, questionnaires and escalations, for everyone who follows up.
CALL_WORK = [
    "followup.view_callattempt",
    "followup.view_followuprecord",
    "surveys.view_response",
    "cases.view_escalation",
    "cases.add_escalation",
]
FOLLOWUP_READ = POLICY_READ + TASK_READ + CALL_WORK
SURVEY_WRITE = [
    "surveys.view_questionnaire",
    "surveys.add_questionnaire",
    "surveys.change_questionnaire",
]
SCRIPT_WRITE = ["followup.view_callscript", "followup.add_callscript", "followup.change_callscript"]
# The SMS outbox, templates and letters (service centre).
NOTIFY = [
    "notify.view_outboxmessage",
    "notify.change_outboxmessage",
    "notify.view_inboundsms",
    "notify.view_smstemplate",
    "notify.change_smstemplate",
    "notify.view_lettertemplate",
    "notify.change_lettertemplate",
    "notify.print_letter",
]
# F6: the working-day calendar; everyone who plans reads it, the supervisor and sysadmin edit it.
CALENDAR_READ = ["calendars.view_calendarday"]
CALENDAR_WRITE = [
    "calendars.add_calendarday",
    "calendars.change_calendarday",
    "calendars.delete_calendarday",
    "calendars.view_calendaryear",
    "calendars.add_calendaryear",
]
# F12: leave keeps tasks away from absent staff.
LEAVE = ["org.view_leave", "org.add_leave", "org.change_leave", "org.delete_leave"]

# C2–C4: cases. The service centre registers and coordinates (seed 001 一/三); departments
# and medical affairs investigate and handle; closing is the supervisor's or medical affairs'.
CASE_READ = [
    "cases.view_case",
    "cases.view_caseevent",
    "cases.view_caseattachment",
    "cases.view_caserefollow",
    "cases.view_casecategory",
]
CASE_INTAKE = [
    *CASE_READ,
    "cases.add_case",
    "cases.add_caseattachment",
    "cases.change_caserefollow",
]
CASE_HANDLE = ["cases.change_case", "cases.handle_case"]
CASE_CLOSE = ["cases.close_case"]
CASE_SETUP = [
    "cases.view_deadlinerule",
    "cases.add_deadlinerule",
    "cases.change_deadlinerule",
    "cases.add_casecategory",
    "cases.change_casecategory",
]
# C1: disposal forms — the department signs, then medical affairs.
DISPOSAL_READ = ["cases.view_disposalform"]
SIGN_DEPARTMENT = ["cases.sign_department", "cases.change_disposalform"]
SIGN_MEDICAL = ["cases.sign_medical", "cases.change_disposalform"]
# F11: the doctor (or department head) acknowledges an escalation.
ACKNOWLEDGE = ["cases.acknowledge_escalation", "cases.change_escalation"]
# R1–R4: statistics (scoped like everything else: a department head sees their department),
# exports of them, regenerating a closed month, and the hospital's leadership summary (R3).
REPORT_READ = ["reports.view_monthlysnapshot", "reports.export_report"]
REPORT_REFRESH = ["reports.refresh_report"]
SUMMARY_READ = ["reports.view_summary"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.AGENT: ORG_READ
    + ROSTER_READ
    + PATIENT_READ
    + REVEAL
    + FOLLOWUP_READ
    + CASE_INTAKE
    + DISPOSAL_READ,
    Role.NURSE: ORG_READ + ROSTER_READ + PATIENT_READ + REVEAL + FOLLOWUP_READ + CASE_INTAKE,
    Role.DOCTOR: ORG_READ
    + ROSTER_READ
    + PATIENT_READ
    + REVEAL
    + FOLLOWUP_READ
    + CASE_INTAKE
    + ACKNOWLEDGE,
    Role.DEPT_HEAD: ORG_READ
    + ROSTER_READ
    + PATIENT_READ
    + REVEAL
    + FOLLOWUP_READ
    + REASSIGN
    + TASK_EXPORT
    + CASE_INTAKE
    + CASE_HANDLE
    + DISPOSAL_READ
    + SIGN_DEPARTMENT
    + ACKNOWLEDGE
    + REPORT_READ,
    Role.HEAD_NURSE: ORG_READ
    + ROSTER_READ
    + ROSTER_WRITE
    + PATIENT_READ
    + REVEAL
    + FOLLOWUP_READ
    + REASSIGN
    + TASK_EXPORT
    + LEAVE
    + CASE_INTAKE
    + CASE_HANDLE
    + DISPOSAL_READ
    + SIGN_DEPARTMENT
    + ACKNOWLEDGE
    + REPORT_READ,
    Role.SUPERVISOR: ORG_READ
    + ROSTER_READ
    + ROSTER_WRITE
    + PATIENT_READ
    + REVEAL
    + IMPORT
    + ["intake.view_hl7message"]
    + FOLLOWUP_READ
    + POLICY_WRITE
    + LIFT_EXCLUSION
    + REASSIGN
    + TASK_EXPORT
    + CALENDAR_READ
    + CALENDAR_WRITE
    + LEAVE
    + SURVEY_WRITE
    + SCRIPT_WRITE
    + NOTIFY
    + CASE_INTAKE
    + CASE_HANDLE
    + CASE_CLOSE
    + CASE_SETUP
    + DISPOSAL_READ
    + REPORT_READ
    + REPORT_REFRESH
    + SUMMARY_READ,
    Role.MEDICAL_AFFAIRS: ORG_READ
    + ROSTER_READ
    + PATIENT_READ
    + REVEAL
    + FOLLOWUP_READ
    + POLICY_WRITE
    + LIFT_EXCLUSION
    + TASK_EXPORT
    + CALENDAR_READ
    + SURVEY_WRITE
    + CASE_INTAKE
    + CASE_HANDLE
    + CASE_CLOSE
    + CASE_SETUP
    + DISPOSAL_READ
    + SIGN_MEDICAL
    + REPORT_READ
    + REPORT_REFRESH
    + SUMMARY_READ,
    Role.NURSING_DEPT: ORG_READ
    + ROSTER_READ
    + PATIENT_READ
    + FOLLOWUP_READ
    + POLICY_WRITE
    + TASK_EXPORT
    + CALENDAR_READ
    + SURVEY_WRITE
    + CASE_READ
    + DISPOSAL_READ
    + REPORT_READ
    + REPORT_REFRESH
    + SUMMARY_READ,
    Role.CONSULTANT: ORG_READ + PATIENT_READ + CASE_INTAKE,
    Role.DISPATCHER: ORG_READ + ROSTER_READ + ROSTER_WRITE,
    Role.PORTER: ORG_READ + ROSTER_READ,
    Role.LEADERSHIP: ORG_READ + REPORT_READ + SUMMARY_READ,
    Role.SYSADMIN: ORG_READ
    + ROSTER_READ
    + ORG_WRITE
    + ["accounts.view_user", "accounts.add_user", "accounts.change_user"]
    + ["django_tasks_db.view_dbtaskresult", "jobs.view_scheduledjob", "jobs.change_scheduledjob"]
    + IMPORT
    + HL7_ADMIN
    + CALENDAR_READ
    + CALENDAR_WRITE
    + LEAVE,
    Role.SECADMIN: [
        "accounts.view_user",
        "accounts.unlock_user",
        "accounts.reset_totp",
        "accounts.assign_roles",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
    ],
    # The auditor reads the audit log through its own page; it holds no change permission.
    Role.AUDITOR: ["audit.view_auditevent", "audit.export_auditevent"],
    Role.HIS_CLIENT: ORG_READ
    + PATIENT_READ
    # C2: an online channel's integration posts cases (and cannot read others').
    + ["cases.add_case", "cases.view_casecategory"]
    + [
        "patients.add_patient",
        "patients.change_patient",
        "patients.add_visit",
        "patients.change_visit",
    ],
}

# Roles whose accounts use the Django admin site for configuration.
ADMIN_SITE_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN})


def scope_for_roles(roles) -> str:
    roles = set(roles)
    if roles & ALL_DEPARTMENT_ROLES:
        return Scope.ALL
    if roles & OWN_DEPARTMENT_ROLES:
        return Scope.OWN
    return Scope.NONE


def role_conflicts(roles) -> list[str]:
    """Reasons (Chinese) why a set of roles may not be held together; empty when allowed."""
    held = [r for r in Role if r in set(roles) and r in ADMIN_DUTIES]
    if len(held) > 1:
        from django.utils.translation import gettext

        names = gettext("、").join(str(r.label) for r in held)
        return [gettext("三员分立：%(roles)s 不能由同一人兼任") % {"roles": names}]
    return []


def sync_role_groups(verbosity: int = 0) -> None:
    """Create one group per role and set exactly the declared permissions."""
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = []
        for perm in ROLE_PERMISSIONS.get(role, []):
            app_label, codename = perm.split(".", 1)
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)


def sync_role_groups_after_migrate(sender, verbosity=0, **kwargs):
    # Permissions are created app by app during post_migrate; sync once, after the last app.
    from django.apps import apps

    # Django sends post_migrate only for apps with a models module (not demo).
    with_models = [a for a in apps.get_app_configs() if a.models_module is not None]
    if sender.label == with_models[-1].label:
        sync_role_groups(verbosity)
