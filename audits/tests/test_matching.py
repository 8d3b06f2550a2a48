"""A CommonPool-shaped parquet, a CSV and img2dataset shards built here, with planted exact
copies, URL matches and edited copies of registered works among unrelated images: every planted
item is found, nothing unrelated is, drafts never are; bad inputs are reported and the rest of
the audit goes on."""

import io
import json
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from audits import selectors, services
from audits.models import AuditMatch, AuditPart
from audits.synthetic import EDITS, commonpool_table, edited, encode, picture, write_shard
from works.models import Registration
from works.services import publication_add

pytestmark = pytest.mark.django_db

EDIT_NAMES = list(EDITS)


@pytest.fixture
def registry(publish, creator, upstream_creator):
    works = {}
    for i in range(5):
        works[i] = publish(creator if i % 2 == 0 else upstream_creator, picture(100 + i), title=f"work {i}")
    draft = publish(creator, picture(200), title="draft", status=Registration.Status.AWAITING_SIGNATURE)
    publication_add(work=works[2][0], url="https://artist.example/portfolio/blue-heron/")
    return works, draft


def _run(files, **kwargs):
    audit = services.audit_create(name="test set", files=files, **kwargs)
    return services.audit_run_inline(audit=audit)


def _found_by_uid(manifest, rows, *, row_group_size: int) -> dict[str, int]:
    """Audit `rows` written as one CommonPool-shaped parquet file: source uid -> work found."""
    pq.write_table(commonpool_table(rows), manifest, row_group_size=row_group_size)
    audit = _run([(str(manifest), manifest.name)])
    return {m.source_uid: m.work_id for m in AuditMatch.objects.filter(audit=audit)}


def test_manifests_and_shards_find_every_planted_item_and_nothing_else(registry, tmp_path):
    works, (draft, draft_bytes) = registry
    import hashlib

    sha = {i: hashlib.sha256(data).hexdigest() for i, (_, data) in works.items()}
    rows = [{} for _ in range(2000)]  # unrelated rows
    rows[10] = {"uid": "planted-sha", "sha256": sha[0]}
    rows[1500] = {"uid": "planted-page", "url": f"http://127.0.0.1:8000/works/{works[1][0].pk}/?utm_source=x"}
    rows[1700] = {"uid": "planted-pub", "url": "http://www.artist.example/portfolio/blue-heron?fbclid=abc"}
    rows[1800] = {"uid": "draft", "sha256": hashlib.sha256(draft_bytes).hexdigest()}
    rows[1900] = {"uid": "elsewhere", "url": f"https://other.example/works/{works[3][0].pk}"}
    manifest = tmp_path / "part-00000.parquet"
    pq.write_table(commonpool_table(rows), manifest, row_group_size=1000)

    items, planted = [], {}
    for n, (i, edit) in enumerate(
        [
            (0, "mirrored"),
            (1, "cropped"),
            (2, "captioned"),
            (3, "rotated"),
            (4, "brightened"),
            (0, "watermarked"),
        ]
    ):
        image = edited(Image.open(io.BytesIO(works[i][1])), edit, seed=n)
        items.append({"key": f"0000{n:02d}", "data": encode(image, "JPEG", 85)})
        planted[f"0000{n:02d}"] = works[i][0].pk
    items.append({"key": "000050", "data": works[3][1]})  # an exact copy of the original bytes
    planted["000050"] = works[3][0].pk
    items.append(
        {"key": "000051", "data": encode(draft_bytes and Image.open(io.BytesIO(draft_bytes)), "PNG")}
    )
    for n in range(30):  # unrelated pictures
        items.append({"key": f"0001{n:02d}", "data": encode(picture(5000 + n), "JPEG", 85)})
    items.append({"key": "000200", "data": None, "url": f"http://localhost/works/{works[4][0].pk}"})
    shard = tmp_path / "shards" / "00000.tar"
    shard.parent.mkdir()
    write_shard(shard, items)

    audit = _run([(str(manifest), manifest.name), (str(shard), "shards/00000.tar")])
    assert audit.status == "done"
    found = {
        (m.source_key or m.source_uid, m.work_id, m.kind) for m in AuditMatch.objects.filter(audit=audit)
    }
    expected_manifest = {
        ("planted-sha", works[0][0].pk, "sha256"),
        ("planted-page", works[1][0].pk, "url"),
        ("planted-pub", works[2][0].pk, "url"),
    }
    assert expected_manifest <= found
    near = {(key, work) for key, work, kind in found if kind == "pdq"}
    assert {(k, w) for k, w in planted.items() if k != "000050"} <= near, found
    assert ("000050", works[3][0].pk, "sha256") in found  # exact beats near for the same item
    assert ("000200", works[4][0].pk, "url") in found
    # nothing unrelated, never the draft, never another site's /works/N
    assert {key for key, _, _ in found} == {"planted-sha", "planted-page", "planted-pub", *planted, "000200"}
    assert not AuditMatch.objects.filter(work=draft).exists()
    p = selectors.progress(audit=audit)
    assert p.rows_scanned == 2000 + 38 and p.images_hashed == 38 and p.failed == 0
    # evidence of near-duplicates is kept, privately
    evidence = AuditMatch.objects.filter(audit=audit, kind="pdq").exclude(evidence="")
    assert evidence.count() == len(near)


def test_bad_inputs_are_reported_and_the_rest_goes_on(registry, tmp_path):
    works, _ = registry
    import hashlib

    good = tmp_path / "good.csv"
    sha0 = hashlib.sha256(works[0][1]).hexdigest()
    good.write_text(
        f'url,sha256\nhttp://a.example/1.jpg,{sha0}\nhttp://b.example/"broken,x,y\nhttp://c.example/3.jpg,\n'
    )
    no_columns = tmp_path / "nocols.parquet"
    import pyarrow as pa

    pq.write_table(pa.table({"caption": ["x"], "width": [1]}), no_columns)
    not_parquet = tmp_path / "junk.parquet"
    not_parquet.write_bytes(b"PAR1 this is not parquet")
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")
    shard = tmp_path / "00001.tar"
    write_shard(
        shard,
        [
            {"key": "a", "data": b"not an image at all"},
            {"key": "b", "data": bomb.getvalue(), "ext": "png"},
            {"key": "c", "data": works[1][1]},
        ],
    )
    truncated = tmp_path / "00002.tar"
    write_shard(
        truncated, [{"key": "d", "data": works[2][1]}, {"key": "e", "data": encode(picture(9), "JPEG")}]
    )
    truncated.write_bytes(truncated.read_bytes()[:-30_000])  # cut inside the last picture

    audit = _run([(str(p), p.name) for p in (good, no_columns, not_parquet, shard, truncated)])
    assert audit.status == "done"
    parts = {part.input.name: part for part in AuditPart.objects.filter(audit=audit).select_related("input")}
    assert (
        parts["good.csv"].status == "done"
        and "line 3: 3 fields where the header has 2" in parts["good.csv"].error
    )
    assert parts["nocols.parquet"].status == "failed"
    assert "neither a url nor a sha256 column (it has: caption, width)" in parts["nocols.parquet"].error
    assert parts["junk.parquet"].status == "failed" and "could not be read" in parts["junk.parquet"].error
    assert parts["00001.tar"].status == "done" and parts["00001.tar"].items_bad == 2
    assert "a.jpg: not a JPEG, PNG or WebP image" in parts["00001.tar"].error
    assert "decompression bomb" in parts["00001.tar"].error
    assert parts["00002.tar"].status == "failed" and "truncated or damaged" in parts["00002.tar"].error
    kinds = set(AuditMatch.objects.filter(audit=audit).values_list("source_file", "work_id", "kind"))
    assert ("good.csv", works[0][0].pk, "sha256") in kinds
    assert ("00001.tar", works[1][0].pk, "sha256") in kinds
    assert ("00002.tar", works[2][0].pk, "sha256") in kinds  # what came before the damage counts


def test_a_part_run_twice_stores_its_matches_once(registry, tmp_path):
    works, _ = registry
    shard = tmp_path / "00000.tar"
    write_shard(shard, [{"key": "x", "data": works[0][1]}, {"key": "y", "data": encode(picture(77), "JPEG")}])
    audit = services.audit_create(name="twice", files=[(str(shard), shard.name)])
    [part_id] = services.audit_plan(audit=audit)
    services.part_run(part_id=part_id)
    first = list(AuditMatch.objects.filter(audit=audit).values_list("source", "work_id", "kind"))
    # a crashed worker left it "running" and its lease ran out: the re-delivered task runs it
    # again from the start
    AuditPart.objects.filter(pk=part_id).update(
        status="running", worker="elsewhere:1", lease_until=timezone.now() - timedelta(seconds=1)
    )
    services.part_run(part_id=part_id)
    assert list(AuditMatch.objects.filter(audit=audit).values_list("source", "work_id", "kind")) == first
    assert AuditPart.objects.get(pk=part_id).attempts == 2
    services.part_run(part_id=part_id)  # finished: a late duplicate message does nothing
    assert AuditPart.objects.get(pk=part_id).attempts == 2


def test_a_cancelled_audit_stops_its_parts(registry, tmp_path):
    shard = tmp_path / "00000.tar"
    write_shard(shard, [{"key": "x", "data": encode(picture(5), "JPEG")}])
    audit = services.audit_create(name="stop", files=[(str(shard), shard.name)])
    [part_id] = services.audit_plan(audit=audit)
    services.audit_cancel(audit=audit)
    part = services.part_run(part_id=part_id)
    assert part.status == "cancelled" and not AuditMatch.objects.filter(audit=audit).exists()
    with pytest.raises(services.AuditError, match="already finished"):
        services.audit_cancel(audit=audit)


def test_sampling_estimates_the_whole_set_with_a_confidence_interval(registry, tmp_path):
    works, _ = registry
    import hashlib

    sha0 = hashlib.sha256(works[0][1]).hexdigest()
    rows = [{"sha256": sha0} if i % 100 == 0 else {} for i in range(40_000)]  # 400 registered items
    manifest = tmp_path / "big.parquet"
    pq.write_table(commonpool_table(rows), manifest, row_group_size=10_000)
    audit = _run([(str(manifest), manifest.name)], sample=0.1, seed=7)
    estimate = selectors.estimate(audit=audit)
    assert 3000 < estimate.rows_sampled < 5000  # ~10 % of the rows
    assert estimate.low <= 400 <= estimate.high and estimate.high - estimate.low < 400
    report = selectors.audit_json(audit=audit)
    assert report["estimate"]["ci95"] == [estimate.low, estimate.high]


def test_the_command_writes_the_report_as_json(registry, tmp_path, capsys):
    works, _ = registry
    import hashlib

    manifest = tmp_path / "m.parquet"
    pq.write_table(
        commonpool_table([{"sha256": hashlib.sha256(works[1][1]).hexdigest(), "uid": "u-1"}, {}]), manifest
    )
    shards = tmp_path / "shards"
    shards.mkdir()
    write_shard(
        shards / "00000.tar", [{"key": "k1", "data": works[2][1], "url": "https://cdn.example/k1.jpg"}]
    )
    out = tmp_path / "report.json"
    call_command(
        "audit_dataset", "--manifest", str(manifest), "--shards", str(shards / "*.tar"), "--json", str(out)
    )
    report = json.loads(out.read_text())
    assert report["rows_scanned"] == 3 and report["images_hashed"] == 1
    assert {(m["work_id"], m["kind"]) for m in report["matches"]} == {
        (works[1][0].pk, "sha256"),
        (works[2][0].pk, "sha256"),
    }
    m = next(m for m in report["matches"] if m["work_id"] == works[1][0].pk)
    assert m["source"] == {
        "file": "m.parquet",
        "row": 0,
        "uid": "u-1",
        "key": None,
        "url": "https://cdn.example.net/img/0.jpg",
    }
    err = capsys.readouterr().err
    assert "items" in err and "report written to" in err


URL_SHAPES = {
    "plain": "https://artist.example/portfolio/blue-heron/",
    "upper-case host, default port": "HTTPS://ARTIST.EXAMPLE:443/portfolio/blue-heron/",
    "www and http port": "http://www.artist.example:80/portfolio/blue-heron/",
    "no scheme": "artist.example/portfolio/blue-heron/",
    "query right after the path": "https://artist.example/portfolio/blue-heron/?utm_source=x",
    "fragment": "https://www.artist.example/portfolio/blue-heron/#top",
    "upper-case host after a lower-case scheme": "https://Artist.Example/portfolio/blue-heron/",
    "www in upper case over http": "http://WWW.ARTIST.EXAMPLE/portfolio/blue-heron",
    "a space before the scheme": " https://artist.example/portfolio/blue-heron/",
    "sha256 in upper case": None,
}


def test_urls_and_hashes_match_however_they_are_written(registry, tmp_path):
    """Every way a dataset writes the same URL (scheme, case, www, default ports, a query or a
    fragment) or the same sha256 (upper case) finds the work; another host or path does not."""
    import hashlib

    works, _ = registry
    rows = [{} for _ in range(300)]
    for n, (shape, url) in enumerate(URL_SHAPES.items()):
        rows[10 + n] = {"uid": shape, "url": url} if url else {"uid": shape}
    rows[10 + len(URL_SHAPES) - 1]["sha256"] = hashlib.sha256(works[0][1]).hexdigest().upper()
    rows[100] = {"uid": "other host", "url": "https://artist.example.org/portfolio/blue-heron/"}
    rows[101] = {"uid": "other path", "url": "https://artist.example/portfolio/red-kite/"}
    rows[102] = {"uid": "query after the host", "url": "https://artist.example?p=blue-heron"}
    found = _found_by_uid(tmp_path / "shapes.parquet", rows, row_group_size=100)
    expected = {shape: works[2][0].pk for shape, url in URL_SHAPES.items() if url}
    expected["sha256 in upper case"] = works[0][0].pk
    assert found == expected


def test_a_publication_on_a_short_host_is_found_however_it_is_written(registry, tmp_path):
    """The scan's first URL test compares as many characters of each URL's host as the shortest
    registered host has (less one): with a publication on a four-letter host it still finds every
    spelling of that host's URLs, and of the others'."""
    works, _ = registry
    publication_add(work=works[4][0], url="https://x.io/heron")
    shapes = {
        "short host": "https://x.io/heron",
        "short host over http": "http://x.io/heron",
        "short host, www, http": "http://www.x.io/heron/",
        "short host in upper case": "HTTPS://X.IO/heron?utm_source=feed",
        "short host, mixed case": "https://X.Io/heron",
        "the longer host": "http://artist.example/portfolio/blue-heron/",
    }
    rows = [{} for _ in range(200)]
    for n, (shape, url) in enumerate(shapes.items()):
        rows[20 + n] = {"uid": shape, "url": url}
    rows[100] = {"uid": "a longer host that starts the same", "url": "https://x.iox.example/heron"}
    rows[101] = {"uid": "another path", "url": "https://x.io/kite"}
    found = _found_by_uid(tmp_path / "short.parquet", rows, row_group_size=50)
    expected = {shape: works[4][0].pk for shape in shapes}
    expected["the longer host"] = works[2][0].pk
    assert found == expected


def test_real_photographs_copied_are_found_and_look_alikes_are_only_similar(
    publish, creator, tmp_path, client
):
    """A screenshot of a registered photograph and one with a caption bar are found; another
    frame of a registered scene is reported apart as "similar, not a copy": not counted, not shown
    to the creator as found."""
    from tests.fixtures.photos import PhotosMissing, edited_bytes, photo_set
    from tests.fixtures.services import require_service

    try:
        photos = photo_set()
    except PhotosMissing as exc:
        require_service(False, str(exc))
    by_name = dict(photos.originals)
    coffee, _ = publish(creator, by_name["skimage/coffee.png"], title="Coffee")
    frame, _ = publish(creator, by_name["skimage/motorcycle_left.png"], title="Left frame")
    (right,) = [image for _, name, image in photos.lookalikes if name == "skimage/motorcycle_right.png"]
    items = [
        {"key": "screenshot", "data": edited_bytes(by_name["skimage/coffee.png"], "screenshot_border", 1)},
        {"key": "captioned", "data": edited_bytes(by_name["skimage/coffee.png"], "caption_bar", 2)},
        {"key": "other-frame", "data": encode(right, "JPEG", 88)},
    ]
    shard = tmp_path / "shards" / "00000.tar"
    shard.parent.mkdir()
    write_shard(shard, items)
    audit = _run([(str(shard), "shards/00000.tar")], user=creator.user)

    kinds = {(m.source_key, m.work_id): m.kind for m in AuditMatch.objects.filter(audit=audit)}
    assert kinds == {
        ("screenshot", coffee.pk): "pdq",
        ("captioned", coffee.pk): "pdq",
        ("other-frame", frame.pk): "similar",
    }
    assert selectors.matched_items(audit=audit) == 2
    report = selectors.audit_json(audit=audit)
    assert {m["source"]["key"] for m in report["matches"]} == {"screenshot", "captioned"}
    assert [(m["source"]["key"], m["kind"]) for m in report["similar"]] == [("other-frame", "similar")]
    found = selectors.found_for_creator(user=creator.user)
    assert found[0]["items"] == 2 and found[0]["works"] == 1

    client.force_login(creator.user)
    page = client.get(f"/audits/{audit.token}/").content.decode()
    assert 'data-testid="audit-similar"' in page and "Similar, not a copy" in page
