"""npm files served as static files: found by name while developing, and collected under the
same name for `make run` and production (collectstatic)."""

from pathlib import Path

from django.contrib.staticfiles import finders

from portal.staticfinders import NPM_STATIC, NpmFinder


def test_every_npm_file_is_found_and_collected_under_its_own_name():
    finder = NpmFinder()
    collected = {str(Path(storage.prefix) / name) for name, storage in finder.list(ignore_patterns=[])}
    assert collected == set(NPM_STATIC), "collectstatic would write them under other names"
    for target in NPM_STATIC:
        assert finders.find(target), target
