"""Deploy the contracts to the chain in CHAIN_RPC_URL (or check the ones whose addresses are set)
and print the settings to set. Refuses a real chain while a public development key is set."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.chain.client import get_web3
from core.chain.contracts import ADDRESS_SETTINGS
from core.chain.deploy import DeployError, chain_deploy
from core.chain.keys import platform_signer, sender_account
from core.errors import CHAIN_ERRORS


class Command(BaseCommand):
    help = "Deploy (or verify) ProvenanceRegistry and LicenseMarket on CHAIN_RPC_URL."

    def add_arguments(self, parser):
        parser.add_argument("--verify-only", action="store_true", help="deploy nothing; check what is set")
        parser.add_argument(
            "--from-block", type=int, help="the block the contracts were deployed in (where indexing starts)"
        )

    def handle(self, *args, verify_only, from_block, **options):
        self.stdout.write(f"Chain {settings.CHAIN_ID} at {settings.CHAIN_RPC_URL}")
        self.stdout.write(f"Sender (anchors, escrow releases): {sender_account().address}")
        self.stdout.write(f"Platform signer (quotes, certificates): {platform_signer().address}")
        try:
            done = chain_deploy(w3=get_web3(), verify_only=verify_only, from_block=from_block)
        except DeployError as exc:
            raise CommandError(exc.message) from exc
        except CHAIN_ERRORS as exc:
            raise CommandError(f"The chain at {settings.CHAIN_RPC_URL} cannot be asked: {exc}") from exc
        for item in done:
            verb = "deployed" if item.new else "checked"
            self.stdout.write(
                self.style.SUCCESS(f"{item.name} {verb} at {item.address} (block {item.block})")
            )
        self.stdout.write("\nSet these for every process of the portal (web, worker, beat):")
        for item in done:
            self.stdout.write(f"{ADDRESS_SETTINGS[item.name]}={item.address}")
