"""Where a work is published, and how a URL found in a dataset is matched to it.

URLs are compared by a normalised key: scheme dropped (http and https are the same place),
host lower-cased without "www.", default ports dropped, the path without trailing slashes,
tracking parameters (utm_*, fbclid, gclid, …) removed and the rest sorted. The portal's own
pages and media match by path on the portal's own hosts (PORTAL_BASE_URL and ALLOWED_HOSTS);
anywhere else a URL matches only when the creator declared it as a publication (a "/works/5"
on some other site is not this portal's work 5).
"""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

TRACKING = re.compile(
    r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref|ref_src|_hsenc|_hsmi|yclid)$", re.I
)
_WORK_PAGE = re.compile(r"^/works/(\d+)(/.*)?$")
_MEDIA = re.compile(r"^/media/((?:previews|thumbnails)/.+)$")


def url_key(url: str) -> str | None:
    """The normalised form two URLs share when they name the same resource; None if not a URL."""
    if not isinstance(url, str) or len(url) > 4000:
        return None
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    host = host.removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/+", "/", parts.path or "/").rstrip("/") or "/"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k))
    return host + path + ("?" + urlencode(query) if query else "")


def portal_path(key: str) -> str:
    """The path part of a key (for matching the portal's own pages and media on any host)."""
    slash = key.find("/")
    return key[slash:].split("?", 1)[0] if slash >= 0 else "/"


def portal_hosts() -> set[str]:
    """The hosts (as url_key writes them) the portal's own pages are served from."""
    from django.conf import settings

    hosts = set()
    for name in [settings.PORTAL_BASE_URL, *settings.ALLOWED_HOSTS]:
        if name in ("*", "") or name.startswith("."):
            continue
        key = url_key(name if "://" in name else "http://" + name)
        if key:
            hosts.add(key.split("/", 1)[0])
    return hosts


def works_for_url_keys(keys) -> dict[str, int]:
    """key -> public work id, for keys that name a public work: a declared publication, the
    work's page, or its preview or thumbnail."""
    from works.models import Work, WorkPublication

    keys = set(keys)
    found: dict[str, int] = {}
    for key, work_id in WorkPublication.objects.filter(
        key__in=keys, work__in=Work.objects.public()
    ).values_list("key", "work_id"):
        found.setdefault(key, work_id)
    by_media: dict[str, str] = {}
    by_page: dict[int, str] = {}
    ours = portal_hosts()
    for key in keys - set(found):
        if key.split("/", 1)[0] not in ours:
            continue
        path = portal_path(key)
        if m := _MEDIA.match(path):
            by_media[m.group(1)] = key
        elif m := _WORK_PAGE.match(path):
            by_page[int(m.group(1))] = key
    if by_media:
        public = Work.objects.public()
        for pk, preview in public.filter(preview__in=by_media).values_list("pk", "preview"):
            found[by_media[preview]] = pk
        for pk, thumbnail in public.filter(thumbnail__in=by_media).values_list("pk", "thumbnail"):
            found[by_media[thumbnail]] = pk
    if by_page:
        for pk in Work.objects.public().filter(pk__in=by_page).values_list("pk", flat=True):
            found[by_page[pk]] = pk
    return found
