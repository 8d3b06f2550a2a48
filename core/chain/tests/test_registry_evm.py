"""ProvenanceRegistry's own rules, on an in-process EVM (eth-tester): who may anchor, a root once,
leaves of one kind never passing for another, the guardian's pause. The portal's use of the
registry (batches, the sender, reorgs) is tested on anvil in works/tests/test_anchoring.py."""

import ast

import pytest
from eth_account import Account
from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.exceptions import ContractCustomError

from core.chain.contracts import REGISTRY
from core.chain.merkle import LEAF_ENCODING, LEAF_REGISTRATION, LEAF_REVOCATION, StandardMerkleTree
from core.chain.reverts import error_selectors

DIGEST, CONTENT = b"\x11" * 32, b"\x22" * 32


@pytest.fixture
def registry(evm):
    # the test account is the cold owner, the anchorer and the guardian
    return evm.deploy(REGISTRY, evm.account.address, 0, evm.account.address, evm.account.address)


def _refused(call, **tx) -> str:
    """The custom error `call` reverts with, by name (py-evm hands back the raw revert data)."""
    with pytest.raises((ContractCustomError, TransactionFailed)) as refused:
        call.call(tx)
    data = refused.value.args[0]
    if isinstance(data, str) and data.startswith("execution reverted: b"):  # eth-tester's wording
        data = ast.literal_eval(data.removeprefix("execution reverted: "))
    selector = Web3.to_hex(data[:4]) if isinstance(data, bytes) else str(data)[:10]
    return error_selectors(REGISTRY).get(selector, selector)


def _anchor(evm, registry, root):
    return evm.send({"to": registry.address, "data": registry.encode_abi("anchor", args=[root])})


def _leaves(signer):
    return [[LEAF_REGISTRATION, DIGEST, signer, CONTENT, 1_764_000_000 + i] for i in range(3)]


def test_an_anchored_root_proves_each_registration_and_nothing_else(evm, registry):
    signer = Account.create().address
    tree = StandardMerkleTree.of(_leaves(signer), LEAF_ENCODING)
    assert _anchor(evm, registry, tree.root).status == 1
    for index, leaf in enumerate(_leaves(signer)):
        assert registry.functions.verify(tree.root, tree.proof(index), *leaf).call()
    kind, digest, who, content, time = _leaves(signer)[0]
    as_revocation = [LEAF_REVOCATION, digest, who, content, time]
    assert not registry.functions.verify(tree.root, tree.proof(0), *as_revocation).call()
    other_signer = [kind, digest, Account.create().address, content, time]
    assert not registry.functions.verify(tree.root, tree.proof(0), *other_signer).call()
    assert not registry.functions.verify(b"\x33" * 32, tree.proof(0), *_leaves(signer)[0]).call()


def test_a_root_is_anchored_once_and_never_empty(evm, registry):
    root = b"\x44" * 32
    assert _anchor(evm, registry, root).status == 1
    me = evm.account.address
    assert _refused(registry.functions.anchor(root), **{"from": me}) == "RootAlreadyAnchored"
    assert _refused(registry.functions.anchor(b"\x00" * 32), **{"from": me}) == "EmptyRoot"


def test_only_the_anchorer_anchors_and_the_guardian_pauses(evm, registry):
    stranger = Account.create().address
    evm.send({"to": stranger, "value": 10**18, "gas": 21_000})  # it can pay for the call
    anchor = registry.functions.anchor(b"\x55" * 32)
    assert _refused(anchor, **{"from": stranger}) == "AccessControlUnauthorizedAccount"
    evm.send({"to": registry.address, "data": registry.encode_abi("pause", args=[])})
    assert _refused(anchor, **{"from": evm.account.address}) == "EnforcedPause"


def test_an_unknown_leaf_kind_is_refused(registry):
    assert (
        _refused(registry.functions.leafHash(7, DIGEST, Account.create().address, CONTENT, 1))
        == "UnknownKind"
    )
