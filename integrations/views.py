"""Alerts and webhooks pages. Everyone signed in connects their own channel; managers also connect
their teams' channels and the webhook endpoints. Which rows a user may open is decided by the
`access_*` queries of `services`: someone else's channel answers 404, like one that does not exist."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from people.roles import ANY_ROLE, Role, has_role, role_required

from . import services
from .forms import ChannelForm, EndpointForm
from .models import Attempt, Channel, Delivery, Endpoint

LOG_PAGE = 50


def _found(access, user, pk: int):
    try:
        return access(user, pk)
    except (Channel.DoesNotExist, Endpoint.DoesNotExist, Delivery.DoesNotExist) as exc:
        raise Http404("Nothing like that here.") from exc


def _log(request, deliveries):
    """A page of a target's delivery log, newest first, with each delivery's attempts; `?before=` a
    delivery id pages back without counting the log."""
    before = request.GET.get("before", "")
    if before.isdigit() and len(before) < 19:  # an id; anything longer is past any bigint
        deliveries = deliveries.filter(pk__lt=int(before))
    page = list(
        deliveries.order_by("-pk").prefetch_related(
            Prefetch("attempt_log", queryset=Attempt.objects.order_by("-at", "-pk"))
        )[: LOG_PAGE + 1]
    )
    older = page[LOG_PAGE - 1].pk if len(page) > LOG_PAGE else None
    return page[:LOG_PAGE], older


@role_required(*ANY_ROLE)
def index(request):
    return render(
        request,
        "integrations/index.html",
        {
            "channels": services.channels_of(request.user),
            "endpoints": services.endpoints_of(request.user),
            "is_manager": has_role(request.user, Role.MANAGERS),
        },
    )


def _save_form(request, form_class, instance, template: str, **form_kwargs):
    form = form_class(request.POST or None, instance=instance, **form_kwargs)
    if request.method == "POST" and form.is_valid():
        target = services.target_save(target=form.save(commit=False), actor=request.user)
        messages.success(request, f"“{target.name}” saved.")
        return redirect(target)
    return render(request, template, {"form": form, "target": instance})


def _channel_form_kwargs(request) -> dict:
    return {"user": request.user, "is_manager": has_role(request.user, Role.MANAGERS)}


@role_required(*ANY_ROLE)
def channel_new(request):
    return _save_form(
        request, ChannelForm, Channel(), "integrations/channel_form.html", **_channel_form_kwargs(request)
    )


@role_required(*ANY_ROLE)
def channel_edit(request, pk: int):
    channel = _found(services.access_channel, request.user, pk)
    return _save_form(request, ChannelForm, channel, "integrations/channel_form.html", **_channel_form_kwargs(request))


def _detail(request, access, pk: int, template: str):
    target = _found(access, request.user, pk)
    deliveries, older = _log(request, target.deliveries.all())
    return render(request, template, {"target": target, "deliveries": deliveries, "older": older})


def _test(request, access, pk: int):
    target = _found(access, request.user, pk)
    services.target_test(target=target, actor=request.user)
    messages.success(request, "Test queued: its result shows in the log below in a few seconds.")
    return redirect(target)


def _delete(request, access, pk: int):
    target = _found(access, request.user, pk)
    services.target_delete(target=target)
    messages.success(request, f"“{target.name}” removed, with its delivery log.")
    return redirect("integrations:index")


@role_required(*ANY_ROLE)
def channel_detail(request, pk: int):
    return _detail(request, services.access_channel, pk, "integrations/channel_detail.html")


@require_POST
@role_required(*ANY_ROLE)
def channel_test(request, pk: int):
    return _test(request, services.access_channel, pk)


@require_POST
@role_required(*ANY_ROLE)
def channel_delete(request, pk: int):
    return _delete(request, services.access_channel, pk)


@role_required(Role.MANAGERS)
def endpoint_new(request):
    return _save_form(request, EndpointForm, Endpoint(), "integrations/endpoint_form.html")


@role_required(Role.MANAGERS)
def endpoint_edit(request, pk: int):
    endpoint = _found(services.access_endpoint, request.user, pk)
    return _save_form(request, EndpointForm, endpoint, "integrations/endpoint_form.html")


@role_required(Role.MANAGERS)
def endpoint_detail(request, pk: int):
    return _detail(request, services.access_endpoint, pk, "integrations/endpoint_detail.html")


@require_POST
@role_required(Role.MANAGERS)
def endpoint_test(request, pk: int):
    return _test(request, services.access_endpoint, pk)


@require_POST
@role_required(Role.MANAGERS)
def endpoint_delete(request, pk: int):
    return _delete(request, services.access_endpoint, pk)


@role_required(*ANY_ROLE)
def delivery_detail(request, pk: int):
    delivery = _found(services.access_delivery, request.user, pk)
    return render(
        request,
        "integrations/delivery_detail.html",
        {"delivery": delivery, "target": delivery.target, "attempts": delivery.attempt_log.order_by("-at", "-pk")},
    )


@require_POST
@role_required(*ANY_ROLE)
def delivery_replay(request, pk: int):
    delivery = _found(services.access_delivery, request.user, pk)
    services.delivery_replay(delivery=delivery)
    messages.success(request, f"Sending “{delivery.summary}” again (same webhook-id, signed anew).")
    return redirect(delivery.target)
