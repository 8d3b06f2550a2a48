"""Signing and anchoring against a real anvil chain."""

import json
import subprocess
from pathlib import Path

import pytest
from web3 import Web3

from core.chain.contracts import REGISTRY, contract
from core.chain.eip712 import typed_data_digest, typed_data_sign, typed_data_signer
from core.chain.models import ChainTransaction
from tests.fixtures.images import make_image, upload_file
from works import anchoring, services
from works.models import AnchorBatch, Registration
from works.selectors import provenance_document
from works.verification import provenance_check

ZERO, ZERO_HASH = "0x" + "00" * 20, "0x" + "00" * 32

pytestmark = pytest.mark.anvil
BASE_DIR = Path(__file__).resolve().parents[2]
Status = Registration.Status


def mine(w3, blocks=1):
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])


def test_a_signed_registration_is_pending_with_the_record_stored_as_signed(register, chain, creator):
    work = register(creator, seed=1, w3=chain)
    registration = work.registration
    assert registration.status == Status.PENDING
    assert registration.typed_data["message"]["contentHash"] == "0x" + work.sha256
    assert registration.typed_data["domain"]["verifyingContract"] == contract(w3=chain, name=REGISTRY).address
    assert typed_data_signer(registration.typed_data, registration.signature) == creator.address
    assert registration.digest == typed_data_digest(registration.typed_data)


def test_a_signature_by_another_wallet_is_refused(chain, creator, outsider):
    work = services.work_upload(
        user=creator.user, creator_address=creator.address, file=upload_file(make_image(seed=2)), title="Mine"
    )
    typed = services.registration_typed_data(registration=work.registration, w3=chain)
    with pytest.raises(services.RegistrationError) as exc:
        services.registration_sign(
            registration=work.registration,
            signature=typed_data_sign(typed, outsider.account),
            w3=chain,
        )
    assert exc.value.message == services.ERR_WRONG_SIGNER.format(
        signer=outsider.address, expected=creator.address
    )
    work.registration.refresh_from_db()
    assert work.registration.status == Status.AWAITING_SIGNATURE


def test_signing_twice_is_refused(register, chain, creator):
    work = register(creator, seed=3, w3=chain)
    with pytest.raises(services.RegistrationError, match="already signed"):
        services.registration_sign(
            registration=work.registration, signature=work.registration.signature, w3=chain
        )


def test_a_batch_is_anchored_in_one_transaction_and_every_proof_verifies(
    register, chain, creator, co_creator
):
    works = [register(creator, seed=10 + i, w3=chain) for i in range(3)] + [
        register(co_creator, seed=20, w3=chain)
    ]

    batch = anchoring.batch_seal(w3=chain)
    assert batch.size == 4
    assert anchoring.batch_seal(w3=chain) is None  # nothing left: none joins two batches

    from core.chain.sender import sender_context

    ctx = sender_context(w3=chain)
    batch = anchoring.batch_send(batch=batch, ctx=ctx)
    assert batch.status == AnchorBatch.Status.SENT
    assert anchoring.batch_send(batch=batch, ctx=ctx).transaction_id == batch.transaction_id
    assert ChainTransaction.objects.count() == 1

    batch = anchoring.batch_refresh(batch=batch, ctx=ctx)  # automine: mined, 1 confirmation
    assert batch.status == AnchorBatch.Status.MINED
    mine(chain)
    batch = anchoring.batch_refresh(batch=batch, ctx=ctx)
    assert batch.status == AnchorBatch.Status.CONFIRMED
    assert batch.block_timestamp is not None

    registry = contract(w3=chain, name=REGISTRY)
    assert registry.functions.anchoredAt(batch.root).call() == int(batch.block_timestamp.timestamp())
    for work in works:
        work.refresh_from_db()
        work.registration.refresh_from_db()
        assert work.registration.status == Status.CONFIRMED
        document = provenance_document(work=work)
        check = provenance_check(document, w3=chain)
        assert check.ok, check
        # anyone can check it on chain from the document alone: root, proof and the leaf's fields
        kind, digest, signer, content, time = document["leaf"]["value"]
        assert document["leaf"]["fields"][0] == "kind" and int(kind) == 1
        fields = [int(kind), digest, signer, content, int(time)]
        assert registry.functions.verify(document["root"], document["proof"], *fields).call()
        revocation_kind = [2, *fields[1:]]  # the same fields as a revocation: no
        assert not registry.functions.verify(document["root"], document["proof"], *revocation_kind).call()
        internal_node = [1, document["root"], ZERO, ZERO_HASH, 0]  # no field set hashes to a node
        assert not registry.functions.verify(document["root"], [], *internal_node).call()


def test_proofs_verify_with_openzeppelin_merkle_tree_in_node(register, chain, creator, client):
    works = [register(creator, seed=30 + i, w3=chain) for i in range(5)]
    from core.chain.sender import sender_context

    batch = anchoring.batch_send(batch=anchoring.batch_seal(w3=chain), ctx=sender_context(w3=chain))
    mine(chain)
    anchoring.batch_refresh(batch=batch, ctx=sender_context(w3=chain))

    documents = [client.get(f"/works/{w.pk}/provenance.json").json() for w in works]
    script = """
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { standardLeafHash } = require("@openzeppelin/merkle-tree/dist/hashes");
const docs = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = docs.map(d => StandardMerkleTree.verify(d.root, d.leaf.encoding, d.leaf.value, d.proof)
  && standardLeafHash(d.leaf.encoding, d.leaf.value) === d.leaf.hash);
console.log(JSON.stringify(out));
"""
    result = subprocess.run(
        ["node", "-e", script], input=json.dumps(documents), capture_output=True, text=True, cwd=BASE_DIR
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True] * 5

    tampered = dict(documents[0], leaf={**documents[0]["leaf"], "value": documents[1]["leaf"]["value"]})
    assert not provenance_check(tampered, w3=chain).ok


def test_a_held_registration_is_not_anchored(register, chain, creator, outsider):
    register(creator, seed=40, w3=chain)
    held = register(outsider, seed=40, w3=chain, title="Copy")
    assert held.registration.status == Status.HELD
    batch = anchoring.batch_seal(w3=chain)
    assert batch.size == 1
    assert not batch.registrations.filter(pk=held.registration.pk).exists()


def test_anchor_tick_waits_for_enough_works_or_time(register, chain, creator, settings):
    from datetime import timedelta

    from django.utils import timezone

    from core.chain.sender import sender_context

    settings.ANCHOR_BATCH_MAX, settings.ANCHOR_BATCH_SECONDS = 3, 60
    ctx = sender_context(w3=chain)
    register(creator, seed=50, w3=chain)
    assert anchoring.anchor_tick(ctx=ctx)["sealed"] == 0
    assert anchoring.anchor_tick(ctx=ctx, now=timezone.now() + timedelta(seconds=61))["sealed"] == 1
    for i in range(3):
        register(creator, seed=51 + i, w3=chain)
    result = anchoring.anchor_tick(ctx=ctx)
    assert result["sealed"] == 1 and result["sent"] == 1
    assert AnchorBatch.objects.count() == 2


def test_provenance_json_of_an_unsigned_work_is_not_public(chain, creator, client):
    work = services.work_upload(
        user=creator.user,
        creator_address=creator.address,
        file=upload_file(make_image(seed=60)),
        title="Draft",
    )
    assert client.get(f"/works/{work.pk}/provenance.json").status_code == 404
    assert Web3.is_checksum_address(work.creator_address)
