"""An allauth provider for Ethereum wallets.

allauth has no Ethereum provider. This one needs no OAuth app: the account uid is the EIP-55
checksummed address, proven by a Sign-In with Ethereum signature (see `services.py`), so
accounts, sessions, logout and e-mail stay allauth's.
"""

from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.urls import reverse


class EthereumAccount(ProviderAccount):
    def to_str(self):
        address = self.account.uid
        return f"{address[:6]}…{address[-4:]}"


class EthereumProvider(Provider):
    id = "ethereum"
    name = "Ethereum wallet"
    account_class = EthereumAccount
    uses_apps = False
    supports_redirect = False

    def get_login_url(self, request, **kwargs):
        return reverse("siwe:signin")

    def extract_uid(self, data):
        return data["address"]

    def extract_common_fields(self, data):
        # The username is the checksummed address: unique, and what the wallet shows.
        return {"username": data["address"]}


provider_classes = [EthereumProvider]
