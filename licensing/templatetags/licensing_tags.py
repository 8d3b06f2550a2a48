from django import template

from licensing.uses import labels_of, names_of

register = template.Library()


@register.filter
def use_names(mask):
    """The uses a quote or licence covers, by name ("licence, AI training")."""
    return names_of(int(mask or 0))


@register.filter
def use_labels(mask):
    """The same, as a creator reads them."""
    return labels_of(int(mask or 0))
