"""OpenZeppelin StandardMerkleTree ("standard-v1"), the same tree @openzeppelin/merkle-tree builds.

leaf = keccak256(keccak256(abi.encode(types, values))); internal nodes hash the sorted pair; the
tree is a flat array with the leaves, sorted by hash, at its end. Proofs verify with
`StandardMerkleTree.verify` in JavaScript and with OpenZeppelin `MerkleProof` on-chain.
"""

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_hex

# Leaves of anchoring batches (ProvenanceRegistry version 2): (kind, digest of what was signed,
# who signed it, content sha256, time); kind 1 is a creator's registration, 2 a revocation.
LEAF_ENCODING = ["uint8", "bytes32", "address", "bytes32", "uint256"]
LEAF_REGISTRATION, LEAF_REVOCATION = 1, 2
# Batches anchored in version 1: (digest, signer, content sha256, time), no kind.
LEAF_V1_ENCODING = ["bytes32", "address", "bytes32", "uint256"]
# Leaves of settlements (market version 2): (tag, index, payee, amount, refundTo); `index` keys
# the contract's claimed BitMap. A payee's leaf: PAYEE_LEAF, refundTo zero; an escrowed share:
# ESCROW_LEAF, the payee it is held for, and the buyer it may be refunded to.
SETTLEMENT_LEAF_ENCODING = ["bytes32", "uint256", "address", "uint256", "address"]
PAYEE_LEAF = keccak(text="creator-ip-portal.payee-leaf")
ESCROW_LEAF = keccak(text="creator-ip-portal.escrow-leaf")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# Version 1 settlements (still claimable): (index, payee, amount).
SETTLEMENT_V1_LEAF_ENCODING = ["uint256", "address", "uint256"]


def leaf_hash(types: list[str], values: list) -> bytes:
    return keccak(keccak(encode(types, values)))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(b"".join(sorted((a, b))))


def process_proof(leaf: bytes, proof: list[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


@dataclass
class StandardMerkleTree:
    tree: list[bytes]
    values: list[dict]  # [{"value": [...], "treeIndex": int}] in the order given
    leaf_encoding: list[str]

    @classmethod
    def of(cls, values: list[list], leaf_encoding: list[str]) -> "StandardMerkleTree":
        if not values:
            raise ValueError("a Merkle tree needs at least one leaf")
        hashed = sorted(
            ((leaf_hash(leaf_encoding, value), index) for index, value in enumerate(values)),
            key=lambda pair: pair[0],
        )
        size = 2 * len(hashed) - 1
        tree: list[bytes] = [b""] * size
        for position, (digest, _) in enumerate(hashed):
            tree[size - 1 - position] = digest
        for i in range(size - 1 - len(hashed), -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        tree_index = [0] * len(values)
        for position, (_, index) in enumerate(hashed):
            tree_index[index] = size - 1 - position
        return cls(
            tree=tree,
            values=[{"value": value, "treeIndex": tree_index[i]} for i, value in enumerate(values)],
            leaf_encoding=leaf_encoding,
        )

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def proof(self, index: int) -> list[bytes]:
        i = self.values[index]["treeIndex"]
        proof = []
        while i > 0:
            sibling = i + 1 if i % 2 == 1 else i - 1
            proof.append(self.tree[sibling])
            i = (i - 1) // 2
        return proof

    def leaf(self, index: int) -> bytes:
        return self.tree[self.values[index]["treeIndex"]]

    def dump(self) -> dict:
        def jsonable(value):
            return to_hex(value) if isinstance(value, bytes) else value

        return {
            "format": "standard-v1",
            "leafEncoding": self.leaf_encoding,
            "tree": [to_hex(node) for node in self.tree],
            "values": [
                {
                    "value": [jsonable(v) if not isinstance(v, int) else str(v) for v in item["value"]],
                    "treeIndex": item["treeIndex"],
                }
                for item in self.values
            ],
        }


def verify(root: bytes, leaf_encoding: list[str], value: list, proof: list[bytes]) -> bool:
    return process_proof(leaf_hash(leaf_encoding, value), proof) == root
