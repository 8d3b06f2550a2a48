from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import PortalError
from core.selectors import wallet_address_for_request
from orgs import hooks, selectors, services
from orgs.forms import KeyForm, MemberForm, OrgForm, WalletForm
from orgs.models import ApiKey, Membership

NEW_KEY_SESSION = "orgs:new-key"


def _membership(request, slug, *, admin=False) -> Membership:
    membership = selectors.membership_for(slug=slug, user=request.user)
    if membership is None or (admin and membership.role != Membership.Role.ADMIN):
        raise Http404("No such organisation.")
    return membership


@login_required
def index(request):
    form = OrgForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.org_create(
                name=form.cleaned_data["name"],
                user=request.user,
                wallet_address=wallet_address_for_request(request),
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, f"{org.name} created: you are its admin, your wallet its first paying wallet."
            )
            return redirect(org)
    return render(
        request,
        "orgs/index.html",
        {"memberships": selectors.orgs_for_user(user=request.user), "form": form},
        status=400 if form.errors else 200,
    )


def _detail_context(membership, **extra):
    org = membership.org
    return {
        "org": org,
        "membership": membership,
        "is_admin": membership.role == Membership.Role.ADMIN,
        "members": selectors.org_members(org=org),
        "wallets": list(org.wallets.all()),
        "keys": list(org.api_keys.select_related("created_by")),
        **hooks.org_page_context(org=org),
        "member_form": MemberForm(),
        "wallet_form": WalletForm(),
        "key_form": KeyForm(),
        **extra,
    }


@login_required
def detail(request, slug):
    membership = _membership(request, slug)
    extra = {}
    new = request.session.pop(NEW_KEY_SESSION, None)
    if new and (row := ApiKey.objects.filter(pk=new.get("id"), org=membership.org).first()):
        extra = {"new_key": new["key"], "new_key_row": row}
    response = render(request, "orgs/detail.html", _detail_context(membership, **extra))
    if extra:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def member_add(request, slug):
    membership = _membership(request, slug, admin=True)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            services.member_add(
                org=membership.org,
                by=request.user,
                address=form.cleaned_data["address"],
                role=form.cleaned_data["role"],
            )
            messages.success(request, "Member added.")
        except PortalError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Enter a wallet address and a role.")
    return redirect(membership.org)


@login_required
@require_POST
def member_remove(request, slug, pk):
    membership = _membership(request, slug, admin=True)
    target = get_object_or_404(Membership, pk=pk, org=membership.org)
    try:
        services.member_remove(org=membership.org, by=request.user, membership=target)
        messages.success(request, "Member removed.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(membership.org)


@login_required
@require_POST
def wallet_add(request, slug):
    membership = _membership(request, slug, admin=True)
    form = WalletForm(request.POST)
    try:
        if not form.is_valid():
            raise services.OrgError(services.ERR_ADDRESS.format(address=request.POST.get("address", "")))
        services.wallet_add(org=membership.org, by=request.user, address=form.cleaned_data["address"])
        messages.success(request, "Paying wallet added.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(membership.org)


@login_required
@require_POST
def key_create(request, slug):
    membership = _membership(request, slug, admin=True)
    form = KeyForm(request.POST)
    if form.is_valid():
        try:
            row, key = services.api_key_create(
                org=membership.org,
                by=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                rate_per_minute=form.cleaned_data["rate_per_minute"],
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            # Shown once, on the page this redirects to (so a reload neither shows it again
            # nor creates another key); only its digest is stored.
            request.session[NEW_KEY_SESSION] = {"key": key, "id": row.pk}
            return redirect(membership.org)
    return render(request, "orgs/detail.html", _detail_context(membership, key_form=form), status=400)


@login_required
@require_POST
def key_revoke(request, slug, pk):
    membership = _membership(request, slug, admin=True)
    key = get_object_or_404(ApiKey, pk=pk, org=membership.org)
    services.api_key_revoke(org=membership.org, by=request.user, key=key)
    messages.success(request, f"Key {key.prefix}… revoked: it stops working at once.")
    return redirect(membership.org)
