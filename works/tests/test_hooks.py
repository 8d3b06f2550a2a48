"""works calls the apps above it only through the hooks in settings.WORKS_HOOKS."""

from django.conf import settings
from django.utils.module_loading import import_string

from works import hooks


def test_every_hook_names_a_callable_of_an_upper_app():
    assert set(settings.WORKS_HOOKS) == {
        "registration_held",
        "works_in_registration_dispute",
        "registration_dispute_for",
        "works_escrowed",
        "in_registration_dispute",
        "work_page_context",
        "work_page_response",
        "derivable_parents",
        "derivation_check",
        "derivation_links_create",
        "held_registration_decide",
        "portfolio_signed",
        "licence_presets",
    }
    for path in settings.WORKS_HOOKS.values():
        assert callable(import_string(path)) and not path.startswith("works.")


def test_without_hooks_works_runs_alone(settings):
    settings.WORKS_HOOKS = {}
    hooks.registration_held(registration=object())  # nothing to tell
    hooks.portfolio_signed(portfolio=object())
    assert hooks.licence_presets() == []
    assert hooks.works_in_registration_dispute(work_ids=[1, 2]) == set()
    assert hooks.registration_dispute_for(work=object()) is None
    assert hooks.works_escrowed(work_ids=[1]) == set()
    assert (
        hooks.held_registration_decide(registration=object(), moderator=None, decision="uphold", reason="x")
        is False
    )


def test_a_hook_is_called_with_what_works_knows(settings):
    calls = []
    settings.WORKS_HOOKS = {"works_in_registration_dispute": f"{__name__}._record"}
    _record.calls = calls
    assert hooks.works_in_registration_dispute(work_ids=[7]) == {7}
    assert calls == [[7]]


def _record(*, work_ids):
    _record.calls.append(list(work_ids))
    return set(work_ids)
