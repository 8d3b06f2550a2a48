from portal.selectors import wallet_address_for_request


def portal(request):
    return {"wallet_address": wallet_address_for_request(request)}
