"""The embedded broker under load: producers and consumers in separate processes hammer one
queue with a fixed number of messages; every message must arrive once, and no consumer may die.

    .venv/bin/python bench/broker.py [--messages 3000] [--producers 2] [--consumers 2] [--payload B]

Compares kombu's file-system transport (what `make run` used), the portal's safe one
(portal/broker.py, `safefs://`) and kombu's SQLAlchemy transport on an SQLite file. Prints
{"<transport>": {"sent", "received", "lost", "duplicates", "broken", "consumer_crashes",
"msgs_per_s"}}."""

import argparse
import json
import multiprocessing as mp
import os
import queue as std_queue
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
PAYLOAD = 64 * 1024  # a chord header or a long argument list; wide enough to catch a torn write


def _connection(kind: str, root: Path):
    from kombu import Connection

    import portal.broker  # noqa: F401  (registers safefs://)

    if kind in ("filesystem", "safefs"):
        folder = str(root / "queue")
        options = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "control_folder": str(root / "control"),
        }
        for path in (folder, options["control_folder"]):
            os.makedirs(path, exist_ok=True)
        return Connection(f"{kind}://", transport_options=options)
    return Connection(f"sqla+sqlite:///{root / 'broker.sqlite3'}")


def _produce(kind, root, count, prefix, sent):
    with _connection(kind, root) as conn:
        q = conn.SimpleQueue("bench")
        for n in range(count):
            q.put({"id": f"{prefix}-{n}", "pad": "x" * PAYLOAD})
        q.close()
    sent.put(count)


def _consume(kind, root, done, got, crashed):
    seen = []
    try:
        with _connection(kind, root) as conn:
            q = conn.SimpleQueue("bench")
            idle_since = None
            while True:
                try:
                    message = q.get(block=True, timeout=0.5)
                except std_queue.Empty:
                    if done.is_set():  # every producer finished: drain, then stop when idle
                        idle_since = idle_since or time.time()
                        if time.time() - idle_since > 2:
                            break
                    continue
                idle_since = None
                seen.append(message.payload["id"])
                message.ack()
            q.close()
    except Exception as exc:  # what killed the Celery worker: count it, as a dead consumer
        crashed.put(f"{type(exc).__name__}: {str(exc)[:120]}")
    got.put(seen)


def run(kind: str, messages: int, producers: int, consumers: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"broker-{kind}-"))
    ctx = mp.get_context("fork")
    sent, got, crashed, done = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_consume, args=(kind, root, done, got, crashed)) for _ in range(consumers)]
    procs += [
        ctx.Process(target=_produce, args=(kind, root, messages, f"p{i}", sent)) for i in range(producers)
    ]
    with _connection(kind, root) as conn:  # queue (and for SQLAlchemy its tables) made once, first
        conn.SimpleQueue("bench").close()
    started = time.time()
    for p in procs:
        p.start()
    total = sum(sent.get(timeout=3600) for _ in range(producers))
    done.set()
    received, crashes, reported = [], [], 0
    consumer_procs = procs[:consumers]
    while reported < consumers:
        try:
            received += got.get(timeout=5)
            reported += 1
        except std_queue.Empty:
            if not any(p.is_alive() for p in consumer_procs):  # died without a word
                crashes += ["a consumer process died"] * (consumers - reported)
                break
    elapsed = time.time() - started
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
    while not crashed.empty():
        crashes.append(crashed.get())
    broken = len(list((root / "broken").glob("*"))) if (root / "broken").exists() else 0
    shutil.rmtree(root, ignore_errors=True)
    return {
        "sent": total,
        "received": len(received),
        "lost": total - len(set(received)),
        "duplicates": len(received) - len(set(received)),
        "broken": broken,
        "consumer_crashes": len(crashes),
        "first_crash": crashes[0] if crashes else None,
        "msgs_per_s": round(len(set(received)) / elapsed, 1),
    }


def main():
    global PAYLOAD
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000, help="per producer")
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=["filesystem", "safefs", "sqla"])
    parser.add_argument("--payload", type=int, default=64 * 1024, help="bytes per message")
    args = parser.parse_args()
    PAYLOAD = args.payload
    out = {}
    try:
        import sqlalchemy  # noqa: F401  (kombu's SQLAlchemy transport needs it; not a requirement)
    except ImportError:
        if "sqla" in args.only:
            print("sqla skipped: `pip install SQLAlchemy` to compare it", file=sys.stderr)
            args.only.remove("sqla")
    for kind in args.only:
        out[kind] = run(kind, args.messages, args.producers, args.consumers)
        print(kind, out[kind], file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
