from django.db.models import QuerySet

from orgs.models import ApiKey, Membership, Organisation


def orgs_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("org").order_by("org__name")


def membership_for(*, slug: str, user) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(org__slug=slug, user=user).select_related("org").first()


def key_for_secret(key: str) -> ApiKey | None:
    """The active key whose digest matches (looked up by its visible prefix first)."""
    import hmac

    from orgs.services import KEY_PREFIX, key_digest

    if not isinstance(key, str) or not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    prefix = key[len(KEY_PREFIX) :].split("_", 1)[0]
    row = ApiKey.objects.select_related("org").filter(prefix=prefix).first()
    if row is None or not hmac.compare_digest(row.digest, key_digest(key)):
        return None
    return row


def org_members(*, org: Organisation):
    return list(org.memberships.select_related("user", "user__profile").order_by("role", "created_at"))
