"""The split resolver: every wei of a payment goes to someone, no line is negative, the owner
takes the remainder, upstream shares stack up the tree."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from core.chain.keys import platform_fee_address
from licensing.derivatives import (
    ERR_OVER_100,
    ERR_TOO_DEEP,
    ERR_TOO_MANY_PARENTS,
    DerivationError,
    derivation_check,
)
from royalties.splits import contract_payees, split_resolve
from royalties.tests.factories import licence_row, sheet_row, user_row, work_row
from works.models import DerivationLink

pytestmark = pytest.mark.django_db
BPS = 10_000


def _addr(i):
    return "0x" + format(0xC0DE0000 + i, "040x")


def _derive(child, parent, bps, licensee, licensee_address):
    licence = licence_row(parent, licensee, licensee_address, share_bps=bps)
    return DerivationLink.objects.create(child=child, parent=parent, licence=licence, share_bps=bps)


class TestResolverProperties(HypothesisTestCase):
    @settings(max_examples=60, deadline=None)
    @given(
        gross=st.integers(min_value=0, max_value=2**200),
        fee_bps=st.integers(min_value=0, max_value=3000),
        co=st.lists(st.integers(min_value=1, max_value=2500), max_size=4),
        up=st.lists(st.integers(min_value=0, max_value=2000), max_size=4),
    )
    def test_lines_always_sum_to_the_gross_and_none_is_negative(self, gross, fee_bps, co, up):
        from django.contrib.auth import get_user_model

        with self.settings(PLATFORM_FEE_BPS=fee_bps):
            user, address = user_row(get_user_model())
            work = work_row(user, address)
            sheet_row(work, [(_addr(i), bps, "illustrator") for i, bps in enumerate(co)])
            child = work
            for i, bps in enumerate(up):  # a chain of ancestors, each with its share
                parent_user, parent_address = user_row(get_user_model())
                parent = work_row(parent_user, parent_address, title=f"ancestor {i}")
                sheet_row(parent, [(_addr(100 + i), 1000, "colourist")])
                _derive(child, parent, bps, user, address)
                child = parent
            lines = split_resolve(work=work, gross=gross)

            assert sum(line.amount for line in lines) == gross
            assert all(line.amount >= 0 for line in lines)
            fee = gross * fee_bps // BPS
            assert sum(line.amount for line in lines if line.role == "platform") == fee
            net = gross - fee
            upstream = [line for line in lines if line.role in ("upstream", "upstream_co_creator")]
            assert sum(line.amount for line in upstream) == sum(net * bps // BPS for bps in up)
            pool = net - sum(net * bps // BPS for bps in up)
            co_lines = [line for line in lines if line.role == "co_creator"]
            assert [line.amount for line in co_lines] == [pool * bps // BPS for bps in co]
            owner = [line for line in lines if line.role == "creator"]
            assert len(owner) == 1 and owner[0].amount == pool - sum(pool * bps // BPS for bps in co)
            addresses, amounts = contract_payees(lines)
            assert sum(amounts) == gross and len(addresses) == len(set(addresses))


def test_a_sale_pays_platform_co_creators_and_owner_to_the_wei(django_user_model, settings):
    settings.PLATFORM_FEE_BPS = 500
    user, address = user_row(django_user_model)
    work = work_row(user, address)
    sheet_row(work, [(_addr(1), 2500, "illustrator"), (_addr(2), 1250, "colourist")])
    lines = split_resolve(work=work, gross=10**16 + 7)
    by_role = {(line.role, line.address): line.amount for line in lines}
    fee = (10**16 + 7) * 500 // BPS
    pool = 10**16 + 7 - fee
    assert by_role[("platform", platform_fee_address())] == fee
    assert by_role[("co_creator", _addr(1))] == pool * 2500 // BPS
    assert by_role[("co_creator", _addr(2))] == pool * 1250 // BPS
    assert by_role[("creator", address)] == pool - pool * 2500 // BPS - pool * 1250 // BPS  # the dust too


def test_only_the_accepted_sheet_counts(django_user_model):
    user, address = user_row(django_user_model)
    work = work_row(user, address)
    sheet_row(work, [(_addr(1), 5000, "illustrator")], status="superseded", version=1)
    sheet_row(work, [(_addr(2), 1000, "colourist")], status="accepted", version=2)
    sheet_row(work, [(_addr(3), 9000, "greedy")], status="proposed", version=3)
    roles = {
        line.address: line.bps for line in split_resolve(work=work, gross=10**18) if line.role == "co_creator"
    }
    assert roles == {_addr(2): 1000}


def test_a_chain_of_ten_ancestors_stacks_absolute_shares(django_user_model, settings):
    settings.PLATFORM_FEE_BPS = 0
    user, address = user_row(django_user_model)
    works = [work_row(user, address, title="sold")]
    for i in range(10):
        parent_user, parent_address = user_row(django_user_model)
        works.append(work_row(parent_user, parent_address, title=f"gen {i + 1}"))
        _derive(works[-2], works[-1], 500, user, address)
    lines = split_resolve(work=works[0], gross=10**18)
    upstream = [line for line in lines if line.role == "upstream"]
    assert len(upstream) == 10 and all(line.amount == 5 * 10**16 for line in upstream)  # 5 % each of the sale
    assert next(line for line in lines if line.role == "creator").amount == 5 * 10**17


def test_declaring_parents_is_bounded_and_never_over_100_percent(django_user_model):
    user, address = user_row(django_user_model)
    parents = []
    for i in range(9):
        owner, owner_address = user_row(django_user_model)
        parent = work_row(owner, owner_address, title=f"parent {i}")
        licence_row(parent, user, address, share_bps=1000)
        parents.append(parent)
    assert len(derivation_check(user=user, parents=parents[:8])) == 8  # eight parents at 10 %: fine
    with pytest.raises(DerivationError) as exc:
        derivation_check(user=user, parents=parents)
    assert exc.value.message == ERR_TOO_MANY_PARENTS.format(n=8)

    greedy_owner, greedy_address = user_row(django_user_model)
    greedy = work_row(greedy_owner, greedy_address, title="greedy")
    licence_row(greedy, user, address, share_bps=6000)
    modest_owner, modest_address = user_row(django_user_model)
    modest = work_row(modest_owner, modest_address, title="modest")
    licence_row(modest, user, address, share_bps=5000)
    with pytest.raises(DerivationError) as exc:
        derivation_check(user=user, parents=[greedy, modest])
    assert exc.value.message == ERR_OVER_100.format(pct="110")


def test_a_tree_deeper_than_ten_generations_is_refused(django_user_model):
    user, address = user_row(django_user_model)
    chain = []
    for i in range(11):
        owner, owner_address = user_row(django_user_model)
        chain.append(work_row(owner, owner_address, title=f"gen {i}"))
        if len(chain) > 1:
            _derive(chain[-2], chain[-1], 0, owner, owner_address)
    licence_row(chain[0], user, address, share_bps=0)
    with pytest.raises(DerivationError) as exc:
        derivation_check(user=user, parents=[chain[0]])
    assert exc.value.message == ERR_TOO_DEEP.format(depth=11, n=10)


def test_a_parent_without_a_licence_allowing_derivatives_is_refused(django_user_model):
    user, _ = user_row(django_user_model)
    owner, owner_address = user_row(django_user_model)
    parent = work_row(owner, owner_address, title="Not licensed")
    with pytest.raises(DerivationError, match="You need a valid licence to “Not licensed”"):
        derivation_check(user=user, parents=[parent])


def test_eight_parents_each_paid(django_user_model, settings):
    settings.PLATFORM_FEE_BPS = 0
    user, address = user_row(django_user_model)
    work = work_row(user, address, title="collage")
    for i in range(8):
        owner, owner_address = user_row(django_user_model)
        _derive(work, work_row(owner, owner_address, title=f"source {i}"), 1000, user, address)
    lines = split_resolve(work=work, gross=10**18)
    assert sorted(line.amount for line in lines if line.role == "upstream") == [10**17] * 8
    assert next(line for line in lines if line.role == "creator").amount == 2 * 10**17
