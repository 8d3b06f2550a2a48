"""Start the development stack: a local anvil chain, a Celery worker with beat, the web server.

`make run` calls this after installing and migrating. Ctrl-C (or SIGTERM) stops every child it
started; a chain that was already listening is reused and left alone. A child that dies is
started again, with a line in the log saying what died and that it was restarted; one that
keeps dying (RESTARTS_PER_MINUTE) stops the stack with the reason.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from core.chain.anvil import anvil_start, is_local_url, rpc_answers
from core.chain.contracts import contracts_ensure_deployed

RESTARTS_PER_MINUTE = 5


class Command(BaseCommand):
    help = "Run anvil (when CHAIN_RPC_URL is local and free), a Celery worker with beat, and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, port, host, **options):
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.recipes: dict[str, object] = {}  # name -> a function that starts it again
        self.restarts: dict[str, list[float]] = {}
        self.stopping = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        logs = Path(settings.VAR_DIR) / "log"
        logs.mkdir(parents=True, exist_ok=True)
        try:
            self._start_chain(logs)
            self._deploy_contracts()
            self._spawn(
                "celery",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "--beat",
                    "--loglevel=INFO",
                    "--concurrency=2",
                    "--queues",
                    f"celery,{settings.CHAIN_QUEUE}",
                    "--schedule",
                    settings.CELERY_BEAT_SCHEDULE_FILENAME,
                ],
            )
            self._spawn("web", [sys.executable, "manage.py", "runserver", f"{host}:{port}", "--noreload"])
            self.stdout.write(
                self.style.SUCCESS(f"Portal on http://{host}:{port}/  (Ctrl-C stops everything)")
            )
            self._watch()
        finally:
            self._stop_all()

    def _on_signal(self, signum, frame):
        self.stopping = True

    def _spawn(self, name, args, **kwargs):
        def start():
            return subprocess.Popen(args, cwd=settings.BASE_DIR, start_new_session=True, **kwargs)

        process = start()
        self.children.append((name, process))
        self.recipes[name] = start
        return process

    def _restart(self, index: int, name: str, process) -> None:
        now = time.monotonic()
        recent = [t for t in self.restarts.get(name, []) if now - t < 60] + [now]
        self.restarts[name] = recent
        if len(recent) > RESTARTS_PER_MINUTE:
            self.stderr.write(
                f"{name} died {len(recent)} times within a minute (last exit code {process.returncode}); "
                "stopping the stack: see var/log/ and the output above."
            )
            self.stopping = True
            return
        with contextlib.suppress(ProcessLookupError):  # its own children (pool processes) too
            os.killpg(process.pid, signal.SIGKILL)
        try:
            fresh = self.recipes[name]()
        except (OSError, RuntimeError) as exc:
            self.stderr.write(f"{name} died and could not be started again ({exc}); stopping the stack.")
            self.stopping = True
            return
        self.children[index] = (name, fresh)
        self.stderr.write(
            f"{name} (pid {process.pid}) died with exit code {process.returncode}; restarted it as "
            f"pid {fresh.pid} (restart {len(recent)} this minute)."
        )

    def _start_chain(self, logs):
        url = settings.CHAIN_RPC_URL
        if not is_local_url(url):
            self.stdout.write(f"Using the chain at {url}.")
            return
        if rpc_answers(url):
            self.stdout.write(f"A chain already answers at {url}; reusing it.")
            return
        from urllib.parse import urlsplit

        port = urlsplit(url).port or 8545
        state = Path(settings.VAR_DIR) / "anvil" / "state.json"
        state.parent.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"Starting anvil on {url} (state kept in {state}).")

        def start():
            return anvil_start(
                port=port,
                chain_id=settings.CHAIN_ID,
                # Blocks every ANVIL_BLOCK_TIME seconds even when idle, so confirmations accrue
                # as on a real chain (automine alone never mines the blocks after yours).
                block_time=settings.ANVIL_BLOCK_TIME,
                extra_args=["--state", str(state)],
                log_path=logs / "anvil.log",
                start_timeout=30,
            )

        try:
            process = start()
        except RuntimeError as exc:
            raise SystemExit(f"{exc}; see {logs / 'anvil.log'}")
        self.children.append(("anvil", process))
        self.recipes["anvil"] = start

    def _deploy_contracts(self):

        if not is_local_url(settings.CHAIN_RPC_URL):
            return  # remote chains are deployed on purpose, not by a dev command
        for name, address in contracts_ensure_deployed().items():
            self.stdout.write(f"{name} at {address}")

    def _watch(self):
        while not self.stopping:
            for index, (name, process) in enumerate(list(self.children)):
                if process.poll() is not None and not self.stopping:
                    self._restart(index, name, process)
            time.sleep(0.5)

    def _stop_all(self):
        """Stop children in reverse start order (web, worker, then the chain they talk to):
        SIGTERM, then SIGKILL to the whole process group after 15 s."""
        for _name, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.stdout.write("Stopped.")
