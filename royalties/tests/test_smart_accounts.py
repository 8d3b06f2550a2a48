"""A co-creator whose wallet is a smart-contract account accepts a split with its signature."""

import pytest
from eth_account import Account

from core.chain.eip712 import typed_data_sign
from royalties import services
from royalties.models import SplitSheet
from royalties.selectors import accepted_sheet_parties
from royalties.tests.factories import work_row

pytestmark = pytest.mark.anvil


@pytest.mark.parametrize("deployed", [True, False])
def test_a_contract_account_accepts_a_split(chain, creator, smart_persona, deployed):
    partner = smart_persona("co-creator", deployed=deployed, salt=8)
    work = work_row(creator.user, creator.address, title="Duet")
    sheet = services.split_sheet_propose(
        work=work, user=creator.user, parties=[(partner.address, "illustrator", 2500)]
    )
    typed = services.split_acceptance_typed_data(sheet=sheet, party=sheet.parties.get())

    forged = partner.wallet.wrap(typed_data_sign(typed, Account.create()))
    with pytest.raises(services.RoyaltiesError) as refused:
        services.split_sheet_accept(sheet=sheet, address=partner.address, signature=forged)
    assert refused.value.message == services.ERR_BAD_SIGNATURE.format(address=partner.address)
    assert sheet.parties.get().accepted_at is None

    accepted = services.split_sheet_accept(
        sheet=sheet, address=partner.address, signature=partner.sign_typed(typed)
    )
    assert accepted.status == SplitSheet.Status.ACCEPTED
    assert accepted_sheet_parties(work=work) == [(partner.address, 2500, "illustrator")]
    assert sheet.parties.get().signature == partner.sign_typed(typed)
