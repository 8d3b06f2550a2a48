import pytest


@pytest.fixture
def reply_window_over(settings):
    """Disputes filed in the test may be decided at once: the respondent's reply window is zero
    days (the window itself is tested in test_reply_window.py)."""
    settings.DISPUTES_REPLY_DAYS = 0
