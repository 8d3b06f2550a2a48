"""Which training runs a training licence covers.

A licence is bought for a named model (`TrainingLicence.model_name`); the terms it was sold
under say how far that name reaches (`Terms.ai_model_scope`):

- "model": that model, every version of it (a run's `model_version` is not a new model);
- "family": that model and every model whose name extends it after a separator
  (a licence for "painter" covers "painter-2", "painter/xl", "painter:v3"; not "painterly");
- "organisation": any model the organisation trains.

Names compare without case and surrounding spaces.
"""

from licensing.terms import AI_SCOPE_FAMILY, AI_SCOPE_MODEL, AI_SCOPE_ORG

FAMILY_SEPARATORS = "-/:._ @"


def _name(value: str) -> str:
    return " ".join((value or "").split()).casefold()


def licence_covers(*, scope: str, licensed_model: str, model_name: str | None) -> bool:
    """Does a licence for `licensed_model` with this scope cover a run of `model_name`?
    `None` asks whether it covers some model (a manifest check that names none)."""
    if model_name is None or scope == AI_SCOPE_ORG:
        return True
    licensed, asked = _name(licensed_model), _name(model_name)
    if scope == AI_SCOPE_MODEL:
        return asked == licensed
    if scope == AI_SCOPE_FAMILY:
        return asked == licensed or (asked.startswith(licensed) and asked[len(licensed)] in FAMILY_SEPARATORS)
    return False


def grants_text(*, scope: str, licensed_model: str, org_name: str) -> str:
    """What a training licence grants, in words (the licence pages and the API say it)."""
    if scope == AI_SCOPE_ORG:
        return f"any model {org_name} trains"
    if scope == AI_SCOPE_FAMILY:
        return f"the model family “{licensed_model}”: that model and models whose name extends it"
    return f"the model “{licensed_model}”, every version of it"
