"""A portfolio registered with one signature: N pictures of 1024x768 through validation,
fingerprinting (sha256, PDQ whole/crop/windows), near-duplicate checks and registration, then one
EIP-712 signature for all of them, then the anchor.

    .venv/bin/python bench/bulk_register.py [--works 1000] [--processes 2]

Runs against a fresh SQLite database under var/bench/bulk/ and a local anvil it starts (the
contracts deployed as `make run` does). `--processes` upload workers share the portfolio, as the
browser sends PORTFOLIO_UPLOADS_AT_ONCE files at a time to as many web processes. The pictures
are generated (distinct synthetic JPEGs) before the clock starts. Prints JSON:
    {"works": N, "seconds", "works_per_s", "signatures": 1, "anchor_gas_per_work",
     "phases": {"upload_s", "seal_s", "sign_s", "anchor_s"}, "refused": N}
`seconds` is upload + seal + sign (the signing request registers the first works, the anchor
tick the rest; both are timed): the anchor wait is excluded (its time is under phases).
"""

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
BENCH = BASE / "var" / "bench" / "bulk"


def _environment(rpc_url: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{BENCH / 'bulk.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(BENCH / "media")
    os.environ["PRIVATE_MEDIA_ROOT"] = str(BENCH / "private")
    os.environ["CHAIN_RPC_URL"] = rpc_url
    os.environ["ANCHOR_BATCH_MAX"] = "100000"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def _pictures(n: int) -> list[Path]:
    from tests.fixtures.images import make_image

    folder = BENCH / "pictures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"picture_{i:04d}.jpg"
        if not path.exists():
            path.write_bytes(make_image(seed=100_000 + i, size=(1024, 768)))
        paths.append(path)
    return paths


def _upload_worker(args) -> tuple[int, list[str]]:
    rpc_url, portfolio_id, paths = args
    _environment(rpc_url)
    from django.core.files.uploadedfile import SimpleUploadedFile

    from works import portfolios
    from works.models import Portfolio

    portfolio = Portfolio.objects.select_related("owner").get(pk=portfolio_id)
    added, refused = 0, []
    for path in paths:
        upload = SimpleUploadedFile(Path(path).name, Path(path).read_bytes(), content_type="image/jpeg")
        try:
            portfolios.portfolio_add(portfolio=portfolio, user=portfolio.owner, file=upload)
            added += 1
        except Exception as exc:  # a refusal is counted, as the page lists it
            refused.append(f"{Path(path).name}: {exc}")
    return added, refused


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--works", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()

    shutil.rmtree(BENCH / "media", ignore_errors=True)
    shutil.rmtree(BENCH / "private", ignore_errors=True)
    BENCH.mkdir(parents=True, exist_ok=True)
    (BENCH / "bulk.sqlite3").unlink(missing_ok=True)

    from core.chain.anvil import anvil_start, anvil_stop, free_port

    port = free_port()
    node = anvil_start(port=port, log_path=BENCH / "anvil.log")
    rpc_url = f"http://127.0.0.1:{port}"
    try:
        _environment(rpc_url)
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from eth_account import Account

        from core.chain.client import get_web3
        from core.chain.contracts import contracts_ensure_deployed
        from core.chain.eip712 import typed_data_sign
        from core.chain.sender import sender_context
        from works import anchoring, portfolios

        call_command("migrate", verbosity=0)
        w3 = get_web3()
        contracts_ensure_deployed(w3=w3)
        artist = Account.create()
        user = get_user_model().objects.create(username=artist.address)
        portfolio = portfolios.portfolio_create(
            user=user, creator_address=artist.address, preset="commercial_use"
        )
        paths = [str(p) for p in _pictures(args.works)]

        from django.db import connections

        connections.close_all()
        started = time.perf_counter()
        shares = [(rpc_url, portfolio.pk, paths[i :: args.processes]) for i in range(args.processes)]
        if args.processes == 1:
            results = [_upload_worker(shares[0])]
        else:
            with multiprocessing.get_context("fork").Pool(args.processes) as pool:
                results = pool.map(_upload_worker, shares)
        uploaded = time.perf_counter()
        portfolio.refresh_from_db()
        portfolio = portfolios.portfolio_seal(portfolio=portfolio, user=user, w3=w3)
        sealed = time.perf_counter()
        signature = typed_data_sign(portfolio.typed_data, artist)
        portfolio = portfolios.portfolio_sign(portfolio=portfolio, user=user, signature=signature, w3=w3)
        while portfolios.portfolios_register_pending():  # what the anchor tick does after the request
            pass
        signed = time.perf_counter()

        ctx = sender_context(w3=w3)
        batch = anchoring.batch_send(batch=anchoring.batch_seal(w3=w3), ctx=ctx)
        for _ in range(3):
            w3.provider.make_request("evm_mine", [])
        anchoring.batch_refresh(batch=batch, ctx=ctx)
        anchored = time.perf_counter()
        batch.refresh_from_db()
        tx = batch.transaction
        receipt = w3.eth.get_transaction_receipt(tx.mined_hash or tx.tx_hash)

        works = portfolio.count
        seconds = signed - started
        refused = [r for _, rs in results for r in rs]
        print(
            json.dumps(
                {
                    "works": works,
                    "seconds": round(seconds, 2),
                    "works_per_s": round(works / seconds, 1),
                    "signatures": 1,
                    "anchor_gas_per_work": round(receipt["gasUsed"] / max(batch.size, 1), 1),
                    "anchor_batch_size": batch.size,
                    "phases": {
                        "upload_s": round(uploaded - started, 2),
                        "seal_s": round(sealed - uploaded, 2),
                        "sign_s": round(signed - sealed, 2),
                        "anchor_s": round(anchored - signed, 2),
                    },
                    "processes": args.processes,
                    "cores": os.cpu_count(),
                    "refused": len(refused),
                    "refusals": refused[:5],
                    "pictures": "synthetic JPEGs, 1024x768, generated before the clock starts",
                },
                indent=2,
            )
        )
    finally:
        anvil_stop(node)


if __name__ == "__main__":
    main()
