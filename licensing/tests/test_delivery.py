"""XMP goes into every accepted format without touching the pixels, and survives C2PA signing."""

import io

import pytest
from PIL import Image

from licensing.delivery import _jpeg_with_xmp, _png_with_xmp, _webp_with_xmp, c2pa_sign, manifest_of
from licensing.terms import PRESETS
from tests.fixtures.images import make_image

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" '
    b'plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"/></rdf:RDF></x:xmpmeta>'
)


@pytest.mark.parametrize(
    "fmt,mime,insert",
    [
        ("JPEG", "image/jpeg", _jpeg_with_xmp),
        ("PNG", "image/png", _png_with_xmp),
        ("WEBP", "image/webp", _webp_with_xmp),
    ],
)
def test_xmp_is_embedded_and_survives_c2pa(fmt, mime, insert, settings, tmp_path):
    settings.C2PA_DIR = tmp_path / "c2pa"
    original = make_image(fmt=fmt, quality=90)
    signed = c2pa_sign(
        data=insert(original, XMP),
        mime=mime,
        title="t",
        terms=PRESETS["all_rights_reserved"][1],
        licence_url="http://x/licences/1/",
    )
    with Image.open(io.BytesIO(signed)) as image, Image.open(io.BytesIO(original)) as before:
        xmp = image.getxmp()["xmpmeta"]["RDF"]["Description"]
        assert xmp["DataMining"].endswith("DMI-PROHIBITED-AIMLTRAINING")
        assert image.tobytes() == before.tobytes()
    assert manifest_of(signed, mime)["assertions"]
