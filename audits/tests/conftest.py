import pytest


@pytest.fixture
def publish():
    """publish(persona, image, title=...) -> a public work uploaded from `image` (a PIL image or
    bytes) through the upload service, its registration signed (pending anchoring), in the index."""
    from audits.synthetic import encode
    from conftest import upload_file
    from works.models import Registration
    from works.services import fingerprint_publish, work_upload

    def make(persona, image, *, title="Work", status=Registration.Status.PENDING):
        data = image if isinstance(image, bytes) else encode(image, "JPEG", 92)
        work = work_upload(
            user=persona.user, creator_address=persona.address, file=upload_file(data), title=title
        )
        Registration.objects.filter(work=work).update(status=status, signature="0x" + "11" * 65)
        work.refresh_from_db()
        if status == Registration.Status.PENDING:
            fingerprint_publish(work=work)
        return work, data

    return make
