"""The contracts' keys: who holds which role, rotating a hot key, pausing and unpausing.

    manage.py chain_keys status
    manage.py chain_keys rotate signer 0xNEW [--old 0xOLD] [--owner-key-file PATH]
    manage.py chain_keys pause [--guardian-key-file PATH]
    manage.py chain_keys unpause [--owner-key-file PATH]

Without a key file, the transactions are printed (to, data) for the owner's or guardian's own
wallet (hardware wallet, multisig) to send; with one, they are sent now. A key file is read for
this one command and never stored; settings never hold the owner's key."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from eth_account import Account

from core.chain.client import get_web3
from core.chain.roles import (
    KEY_ROLES,
    KEY_SETTINGS,
    RoleError,
    calls_send,
    configured_address,
    pause_calls,
    roles_status,
    rotation_calls,
)
from core.errors import CHAIN_ERRORS

ERR_KEY_FILE = "Cannot read a private key from {path}: {reason}"


def _account(path: str | None):
    if not path:
        return None
    try:
        return Account.from_key(Path(path).read_text().strip())
    except (OSError, ValueError) as exc:
        raise CommandError(ERR_KEY_FILE.format(path=path, reason=exc)) from exc


class Command(BaseCommand):
    help = "Show, rotate and pause the keys the contracts trust (version 2)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="who holds each role, the owner, paused or not")
        rotate = sub.add_parser(
            "rotate", help="move a key's roles to a new address (the owner's transactions)"
        )
        rotate.add_argument("key", choices=sorted(KEY_ROLES))
        rotate.add_argument("new", help="the new key's address (its key goes in settings)")
        rotate.add_argument("--old", help="the address to revoke (default: the one in settings now)")
        rotate.add_argument(
            "--owner-key-file", help="send now, signed by the owner's key read from this file"
        )
        pause = sub.add_parser("pause", help="stop purchases, settlements, claims and anchoring")
        pause.add_argument("--guardian-key-file", help="send now, signed by the guardian's key in this file")
        unpause = sub.add_parser("unpause", help="resume (the owner only)")
        unpause.add_argument("--owner-key-file", help="send now, signed by the owner's key in this file")

    def handle(self, *args, action, **options):
        w3 = get_web3()
        try:
            if action == "status":
                return self._status(w3)
            if action == "rotate":
                old = options["old"] or configured_address(options["key"])
                calls = rotation_calls(w3=w3, key=options["key"], new=options["new"], old=old)
                self._run(w3, calls, _account(options["owner_key_file"]), "owner")
                self._after_rotation(options["key"], options["new"], old)
            elif action == "pause":
                self._run(
                    w3, pause_calls(w3=w3, paused=True), _account(options["guardian_key_file"]), "guardian"
                )
            else:
                self._run(w3, pause_calls(w3=w3, paused=False), _account(options["owner_key_file"]), "owner")
        except RoleError as exc:
            raise CommandError(exc.message) from exc
        except CHAIN_ERRORS as exc:
            raise CommandError(f"The chain at {settings.CHAIN_RPC_URL} cannot be asked: {exc}") from exc

    def _status(self, w3):
        rows, contracts = roles_status(w3=w3)
        for name, state in contracts.items():
            paused = "PAUSED" if state["paused"] else "running"
            self.stdout.write(f"{name} at {state['address']}: owner {state['owner']}, {paused}")
        for row in rows:
            mark = self.style.SUCCESS("holds") if row.holds else self.style.ERROR("does NOT hold")
            self.stdout.write(f"  {row.contract}.{row.role}: {row.key} {row.expected} {mark} it")
        if any(not row.holds for row in rows):
            raise CommandError("A key in settings does not hold its role: rotate it (chain_keys rotate).")

    def _run(self, w3, calls, account, as_role):
        if not calls:
            self.stdout.write("Nothing to do: the contracts are already so.")
            return
        if account is None:
            self.stdout.write(
                f"Send these from the {as_role}'s wallet, in this order (chain {w3.eth.chain_id}):"
            )
            for call in calls:
                self.stdout.write(f"  {call.describe()}\n    to:   {call.address}\n    data: {call.data}")
            return
        for call, tx_hash in zip(
            calls, calls_send(w3=w3, calls=calls, account=account, as_role=as_role), strict=True
        ):
            self.stdout.write(self.style.SUCCESS(f"{call.describe()}: mined in {tx_hash}"))

    def _after_rotation(self, key, new, old):
        setting = KEY_SETTINGS[key]
        self.stdout.write(
            f"Once mined: {old} no longer holds the {key}'s roles; the portal must run with {setting} "
            f"for {new} in every process (web, worker, indexer, beat)."
        )
        if key == "signer":
            self.stdout.write(
                "Open quotes and settlements are signed again with the new key when a buyer pays; "
                "certificates signed by the old key stay verifiable."
            )
            if not settings.PLATFORM_FEE_ADDRESS:
                self.stdout.write(
                    self.style.WARNING(
                        "PLATFORM_FEE_ADDRESS is not set: new fees go to the new signer's address; what "
                        "the old one earned stays withdrawable by the old key."
                    )
                )
