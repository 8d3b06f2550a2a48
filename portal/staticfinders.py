"""Serve the few files the portal uses from npm packages (installed by `npm ci`) as static
files, without copying them into the repository: Chart.js for the earnings charts, fflate for zips."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

NPM_STATIC = {
    "vendor/chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "vendor/chart.umd.min.js.map": "chart.js/dist/chart.umd.min.js.map",
    "vendor/fflate/index.js": "fflate/umd/index.js",  # zips unpacked in the browser; list() keeps file names
}


class NpmFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        self.root = Path(settings.BASE_DIR) / "node_modules"

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        source = NPM_STATIC.get(path)
        if source is None or not (self.root / source).exists():
            return [] if find_all else None
        found = str(self.root / source)
        return [found] if find_all else found

    def list(self, ignore_patterns):
        for target, source in NPM_STATIC.items():
            if not (self.root / source).exists():
                continue
            folder = (self.root / source).parent
            storage = FileSystemStorage(location=str(folder))
            storage.prefix = str(Path(target).parent)
            yield Path(source).name, storage
