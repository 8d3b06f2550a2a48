"""Writes for organisations: creating them, members, paying wallets, API keys."""

import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from web3 import Web3

from core.errors import PortalError
from orgs.models import ApiKey, Membership, Organisation, PayingWallet

ERR_NAME = "Give the organisation a name."
ERR_NOT_ADMIN = "Only an admin of {org} can do that."
ERR_NO_SUCH_USER = "Nobody has signed in with {address} yet: ask them to sign in once with their wallet."
ERR_ALREADY_MEMBER = "{address} is already a member."
ERR_LAST_ADMIN = "An organisation keeps at least one admin."
ERR_ADDRESS = "“{address}” is not a wallet address (0x and 40 hexadecimal digits)."
ERR_SCOPES = "Choose at least one scope: read, license, report."
ERR_KEY_NAME = "Name the key (e.g. “training pipeline”) so you can tell keys apart."
KEY_PREFIX = "cip_"


class OrgError(PortalError):
    code = "org_refused"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _require_admin(org: Organisation, user) -> None:
    if not Membership.objects.filter(org=org, user=user, role=Membership.Role.ADMIN).exists():
        raise OrgError(ERR_NOT_ADMIN.format(org=org.name), status=403, code="forbidden")


def org_create(*, name: str, user, wallet_address: str | None) -> Organisation:
    """A new organisation; its creator is its first admin, their wallet its first paying wallet."""
    name = (name or "").strip()
    if not name:
        raise OrgError(ERR_NAME)
    base = slugify(name)[:50] or "org"
    with transaction.atomic():
        slug, n = base, 1
        while Organisation.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        org = Organisation.objects.create(name=name[:120], slug=slug, created_by=user)
        Membership.objects.create(org=org, user=user, role=Membership.Role.ADMIN)
        if wallet_address:
            PayingWallet.objects.create(org=org, address=wallet_address)
    return org


def member_add(*, org: Organisation, by, address: str, role: str = Membership.Role.MEMBER) -> Membership:
    from allauth.socialaccount.models import SocialAccount

    _require_admin(org, by)
    if not Web3.is_address(address or ""):
        raise OrgError(ERR_ADDRESS.format(address=address))
    address = Web3.to_checksum_address(address)
    account = SocialAccount.objects.filter(provider="ethereum", uid=address).select_related("user").first()
    if account is None:
        raise OrgError(ERR_NO_SUCH_USER.format(address=address))
    try:
        with transaction.atomic():
            return Membership.objects.create(org=org, user=account.user, role=role)
    except IntegrityError:
        raise OrgError(ERR_ALREADY_MEMBER.format(address=address))


def member_remove(*, org: Organisation, by, membership: Membership) -> None:
    _require_admin(org, by)
    with transaction.atomic():
        admins = Membership.objects.select_for_update().filter(org=org, role=Membership.Role.ADMIN)
        if membership.role == Membership.Role.ADMIN and admins.count() <= 1:
            raise OrgError(ERR_LAST_ADMIN)
        membership.delete()


def wallet_add(*, org: Organisation, by, address: str) -> PayingWallet:
    _require_admin(org, by)
    if not Web3.is_address(address or ""):
        raise OrgError(ERR_ADDRESS.format(address=address))
    wallet, _ = PayingWallet.objects.get_or_create(org=org, address=Web3.to_checksum_address(address))
    return wallet


def api_key_create(*, org: Organisation, by, name: str, scopes: list[str], rate_per_minute: int = 120):
    """A new key: (the stored row, the whole key). The whole key is shown once and never stored."""
    _require_admin(org, by)
    if not (name or "").strip():
        raise OrgError(ERR_KEY_NAME)
    valid = {s.value for s in ApiKey.Scope}
    scopes = sorted(set(scopes) & valid)
    if not scopes:
        raise OrgError(ERR_SCOPES)
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey.objects.create(
        org=org,
        name=name.strip()[:80],
        prefix=prefix,
        digest=key_digest(key),
        scopes=scopes,
        rate_per_minute=max(1, min(int(rate_per_minute), 100_000)),
        created_by=by,
    )
    return row, key


def api_key_revoke(*, org: Organisation, by, key: ApiKey) -> ApiKey:
    _require_admin(org, by)
    ApiKey.objects.filter(pk=key.pk, org=org, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db()
    return key
