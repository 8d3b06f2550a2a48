"""System checks of the portal's own (`manage.py check`, `check --deploy`, and at start-up of
every web and worker process through portal/wsgi.py and portal/celery.py)."""

from django.conf import settings
from django.core.checks import Error, Tags, register, run_checks
from django.core.exceptions import ImproperlyConfigured

from core.chain.keys import development_keys_in_use

ERR_DEV_KEYS = (
    "{names}: a public development key (anvil/hardhat) or its address, and CHAIN_ID {chain_id} is "
    "not a development chain: anyone can take what that key can move."
)
HINT_DEV_KEYS = "Set a key of your own (README: Deploying), or point CHAIN_ID at a local chain."


@register(Tags.security)
def development_keys_on_a_real_chain(app_configs=None, **kwargs):
    names = development_keys_in_use(settings.CHAIN_ID)
    if not names:
        return []
    return [
        Error(
            ERR_DEV_KEYS.format(names=", ".join(names), chain_id=settings.CHAIN_ID),
            hint=HINT_DEV_KEYS,
            id="portal.E001",
        )
    ]


def refuse_to_start() -> None:
    """Run at start-up of web and worker processes: an error of ours stops the process."""
    errors = [e for e in run_checks(tags=[Tags.security]) if e.is_serious() and e.id.startswith("portal.")]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg} {e.hint or ''}".strip() for e in errors))
