"""The replay pages (managers): ask for a replay of a draft, follow its progress, read its report."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from people.roles import Role, RoleRequiredMixin, role_required
from replays import report, services
from replays.forms import ReplayForm
from replays.models import MAX_WEEKS, Replay
from sla.models import PolicyDraft

FLIPS_PER_PAGE = 100


@require_POST
@role_required(Role.MANAGERS)
def draft_replay(request, pk):
    """Ask for a replay of the draft's current revision; the worker does it, the report page follows it."""
    draft = get_object_or_404(PolicyDraft, pk=pk)
    form = ReplayForm(request.POST)
    if not form.is_valid():
        messages.warning(request, f"Choose between 1 and {MAX_WEEKS} weeks to replay.")
        return redirect(draft)
    try:
        replay = services.replay_request(draft=draft, actor=request.user, weeks=form.cleaned_data["weeks"])
    except (ValidationError, PermissionDenied) as exc:
        messages.warning(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect(draft)
    return redirect(replay)


class ReplayView(RoleRequiredMixin, TemplateView):
    """A replay's report: its progress while a worker runs it, then the stored figures and flips."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "replays/replay.html"

    def get_context_data(self, **kwargs):
        replay = get_object_or_404(
            Replay.objects.select_related("draft", "requested_by", "draft__based_on"), pk=kwargs["pk"]
        )
        flips = (
            replay.flips.select_related("lead", "owner").order_by("starts_at", "id")
            if replay.status == Replay.Status.DONE
            else replay.flips.none()
        )
        page = Paginator(flips, FLIPS_PER_PAGE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            replay=replay,
            policy=services.replay_policy(replay),
            tables=report.tables(replay),
            consequences=report.consequences(replay),
            flips=page,
            others=replay.draft.replays.exclude(pk=replay.pk).select_related("requested_by")[:10],
            **kwargs,
        )


@role_required(Role.MANAGERS)
def replay_progress(request, pk):
    """How far the worker is: the page's progress bar polls this."""
    replay = get_object_or_404(Replay.objects.only("status", "done", "total"), pk=pk)
    return JsonResponse(
        {
            "status": replay.status,
            "label": replay.get_status_display(),
            "done": replay.done,
            "total": replay.total,
            "percent": replay.percent,
            "finished": replay.is_finished,
        }
    )
