// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title ProvenanceRegistryV1 (version 1, kept so roots anchored in it stay verifiable)
/// @notice Stores one Merkle root per batch of signed work registrations, with the block time it
/// was anchored at. Leaves follow OpenZeppelin's StandardMerkleTree encoding
/// (keccak256(bytes.concat(keccak256(abi.encode(...))))), so proofs verify with the npm
/// package openzeppelin merkle-tree off-chain and with `verify` here.
/// @dev Kept to one storage write and one small event per batch: gas per work falls as 1/batch.
contract ProvenanceRegistryV1 {
    /// @notice The only address allowed to anchor roots (the portal's anchoring key).
    address public immutable anchorer;

    /// @notice Block timestamp at which a root was anchored; zero when never anchored.
    mapping(bytes32 root => uint256 timestamp) public anchoredAt;

    event RootAnchored(bytes32 indexed root);

    error NotAnchorer(address caller);
    error RootAlreadyAnchored(bytes32 root);
    error EmptyRoot();

    constructor(address anchorer_) {
        anchorer = anchorer_;
    }

    /// @notice Anchor a batch root. A root can be anchored once; its time never changes.
    function anchor(bytes32 root) external {
        if (msg.sender != anchorer) revert NotAnchorer(msg.sender);
        if (root == bytes32(0)) revert EmptyRoot();
        if (anchoredAt[root] != 0) revert RootAlreadyAnchored(root);
        anchoredAt[root] = block.timestamp;
        emit RootAnchored(root);
    }

    /// @notice True when `root` is anchored here and `proof` proves `leaf` is in it.
    function verify(bytes32 root, bytes32[] calldata proof, bytes32 leaf) external view returns (bool) {
        return anchoredAt[root] != 0 && MerkleProof.verifyCalldata(proof, root, leaf);
    }
}
