"""Check a file's provenance: the creator's signature, the Merkle proof, and the on-chain root.

    python manage.py verify_provenance FILE [--rpc URL] [--document provenance.json]

Exits 0 only when a registration of exactly this file checks out on every count and has not
been revoked.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.chain.accounts import KINDS
from core.chain.client import web3_for_url
from works.fingerprints import sha256_of
from works.selectors import provenance_document, registrations_for_sha256
from works.verification import provenance_check

ERR_NOT_REGISTERED = "No registration of this file."
ERR_NOT_VERIFIED = "Not verified."
ERR_REVOKED = "Revoked: a moderator revoked the registration of this file."


class Command(BaseCommand):
    help = "Verify a file's registration: signature, Merkle proof and on-chain root."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--rpc", default=None, help="JSON-RPC URL (default: CHAIN_RPC_URL)")
        parser.add_argument(
            "--document", default=None, help="a provenance.json to check instead of this portal's registry"
        )

    def handle(self, *args, file, rpc, document, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        with path.open("rb") as handle:
            sha256 = sha256_of(handle)
        self.stdout.write(f"file    {path}\nsha256  {sha256}")

        if document:
            documents = [json.loads(Path(document).read_text())]
            if documents[0]["work"]["sha256"] != sha256:
                raise CommandError("The provenance document is for another file (sha256 differs).")
        else:
            documents = [provenance_document(work=r.work) for r in registrations_for_sha256(sha256=sha256)]
        if not documents:
            raise CommandError(ERR_NOT_REGISTERED)

        w3 = web3_for_url(rpc or settings.CHAIN_RPC_URL)
        verified = revoked = False
        for doc in documents:
            check = provenance_check(doc, w3=w3)
            verified = verified or check.ok
            revoked = revoked or check.revoked
            work = doc["work"]
            portfolio = doc.get("portfolio")
            portfolio_line = (
                f"  portfolio  one signature over {portfolio['count']} registrations, this one proven under "
                f"root {portfolio['root']}\n"
                if portfolio
                else ""
            )
            at = f", checked at block {check.signature_block}" if check.signature_block is not None else ""
            self.stdout.write(
                f"\nwork #{work['id']} “{work['title']}” by {doc['creator']} ({doc['status']})\n"
                f"  signature  {'ok' if check.signature_ok else 'FAILED'}"
                f"{f' (signer {check.signer})' if check.signer else ''}, {KINDS[check.signer_kind]}"
                f"{at}\n"
                f"{portfolio_line}"
                f"  leaf       {'ok' if check.leaf_ok else 'FAILED'}\n"
                f"  proof      {'ok' if check.proof_ok else 'FAILED'} (root {doc.get('root')})\n"
                f"  on-chain   {'ok' if check.onchain_ok else check.onchain_error or 'FAILED'}"
                f" (contract {doc.get('contract_address')}, tx {doc.get('tx_hash')}, "
                f"block {doc.get('block_number')}, {doc.get('block_timestamp')})"
            )
            if check.revoked:
                revocation = doc["revocation"]
                anchored = {True: "anchored", False: "proof FAILED", None: "not anchored yet"}[
                    check.revocation_anchored
                ]
                self.stdout.write(
                    self.style.ERROR("  REVOKED")
                    + f"   {anchored} (root {revocation.get('root')}, tx {revocation.get('tx_hash')},"
                    f" {revocation.get('block_timestamp')}): {check.revocation_reason}"
                )
        if revoked and not verified:
            raise CommandError(ERR_REVOKED)
        if not verified:
            raise CommandError(ERR_NOT_VERIFIED)
        self.stdout.write(self.style.SUCCESS("\nVerified: signature, proof and on-chain root all check out."))
