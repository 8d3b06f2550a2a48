from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts are created only by a verified wallet signature, never by a password form.
        return False

    def add_message(
        self, request, level, message_template=None, message_context=None, extra_tags="", message=None
    ):
        # allauth's "Successfully signed in as <40 hex digits>" says nothing the wallet chip does
        # not, and overflows a phone screen.
        if message_template == "account/messages/logged_in.txt":
            message_template, message = None, "Signed in with your wallet."
        super().add_message(request, level, message_template, message_context, extra_tags, message=message)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return sociallogin.account.provider == "ethereum"
