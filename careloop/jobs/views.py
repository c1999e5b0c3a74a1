from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tasks_db.models import DBTaskResult

from careloop.core.permissions import require_perm
from careloop.jobs import registry, scheduler
from careloop.jobs.models import ScheduledJob


@login_required
def scheduledjob_list(request):
    require_perm(request, "jobs.view_scheduledjob")
    scheduler.ensure_rows()
    rows = {row.name: row for row in ScheduledJob.objects.all()}
    jobs = [{"spec": spec, "row": rows.get(spec.name)} for spec in registry.all_jobs()]
    recent_failures = DBTaskResult.objects.filter(status="FAILED").order_by("-finished_at")[:20]
    return render(
        request, "jobs/scheduledjob_list.html", {"jobs": jobs, "recent_failures": recent_failures}
    )


@login_required
@require_POST
def scheduledjob_run(request, name):
    require_perm(request, "jobs.change_scheduledjob")
    try:
        scheduler.run_now(name)
    except KeyError:
        messages.error(request, _("没有名为 %(n)s 的定时任务。") % {"n": name})
    else:
        messages.success(request, _("任务 %(n)s 已排队，后台进程将立即执行。") % {"n": name})
    return redirect("jobs:scheduledjob_list")
