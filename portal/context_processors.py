from portal.selectors import wallet_address_for_user


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"wallet_address": None}
    # One query per page, cached on the request for templates that ask again.
    if not hasattr(request, "_wallet_address"):
        request._wallet_address = wallet_address_for_user(user=user)
    return {"wallet_address": request._wallet_address}
