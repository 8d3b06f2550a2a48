"""Start and stop a local anvil node from the npm package @foundry-rs/anvil."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ANVIL_CANDIDATES = [
    BASE_DIR / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil",
    BASE_DIR / "node_modules" / "@foundry-rs" / "anvil-linux-arm64" / "bin" / "anvil",
    BASE_DIR / "node_modules" / "@foundry-rs" / "anvil-darwin-arm64" / "bin" / "anvil",
    BASE_DIR / "node_modules" / "@foundry-rs" / "anvil-darwin-amd64" / "bin" / "anvil",
]
# anvil's well-known development mnemonic: its accounts are public test keys, never real funds.
DEV_MNEMONIC = "test test test test test test test test test test test junk"


class AnvilNotFound(Exception):
    pass


def anvil_binary() -> str:
    for candidate in ANVIL_CANDIDATES:
        if candidate.exists():
            return str(candidate)
    found = shutil.which("anvil")
    if found:
        return found
    raise AnvilNotFound("anvil is not installed: run `npm ci` (package @foundry-rs/anvil).")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_local_url(url: str) -> bool:
    return urlsplit(url).hostname in {"127.0.0.1", "localhost", "::1"}


def rpc_answers(url: str, timeout: float = 1.0) -> bool:
    try:
        response = requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=timeout
        )
        return response.ok and "result" in response.json()
    except (requests.RequestException, ValueError):
        return False


def anvil_start(
    *,
    port: int,
    chain_id: int = 31337,
    block_time: float | None = None,
    extra_args: list[str] | None = None,
    log_path: Path | None = None,
    start_timeout: float = 20.0,
) -> subprocess.Popen:
    """Start anvil on 127.0.0.1:port and wait until it answers JSON-RPC."""
    args = [
        anvil_binary(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chain-id",
        str(chain_id),
        "--mnemonic",
        DEV_MNEMONIC,
        "--silent",
    ]
    if block_time:
        args += ["--block-time", str(block_time)]
    args += extra_args or []
    if log_path:
        # The child keeps its own copy of the descriptor; the parent's can close at once.
        with open(log_path, "ab") as log:
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    else:
        process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"anvil exited with code {process.returncode}")
        if rpc_answers(url, timeout=0.5):
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"anvil did not answer on {url} within {start_timeout} s")


def anvil_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, 15)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
