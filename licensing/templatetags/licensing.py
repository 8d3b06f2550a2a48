from django import template

from licensing.money import wei_to_eth

register = template.Library()


@register.filter
def eth(wei):
    if wei in (None, ""):
        return ""
    return "Free" if int(wei) == 0 else f"{wei_to_eth(int(wei))} ETH"
