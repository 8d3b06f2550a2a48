// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title ProvenanceRegistry (version 2)
/// @notice Stores one Merkle root per batch of signed registrations (and revocations), with the
/// block time it was anchored at. Leaves say what they are: the registry hashes a leaf from its
/// fields, a kind tag first (StandardMerkleTree encoding), so an internal node of a tree can
/// never pass for a leaf, nor a revocation for a registration.
/// @dev ANCHORER_ROLE (the portal's sending key) anchors; GUARDIAN_ROLE pauses anchoring; the
/// default admin (a cold owner key) rotates both.
contract ProvenanceRegistry is AccessControlDefaultAdminRules, Pausable {
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Leaf kinds: a creator's signed registration, a platform-signed revocation of one.
    uint8 public constant REGISTRATION = 1;
    uint8 public constant REVOCATION = 2;

    /// @notice Block timestamp at which a root was anchored; zero when never anchored.
    mapping(bytes32 root => uint256 timestamp) public anchoredAt;

    event RootAnchored(bytes32 indexed root);

    error EmptyRoot();
    error RootAlreadyAnchored(bytes32 root);
    error UnknownKind(uint8 kind);
    error ZeroAddress();

    constructor(address owner, uint48 ownerTransferDelay, address anchorer, address guardian)
        AccessControlDefaultAdminRules(ownerTransferDelay, owner)
    {
        if (anchorer == address(0) || guardian == address(0)) revert ZeroAddress();
        _grantRole(ANCHORER_ROLE, anchorer);
        _grantRole(GUARDIAN_ROLE, guardian);
    }

    /// @notice Anchor a batch root. A root can be anchored once; its time never changes.
    function anchor(bytes32 root) external onlyRole(ANCHORER_ROLE) whenNotPaused {
        if (root == bytes32(0)) revert EmptyRoot();
        if (anchoredAt[root] != 0) revert RootAlreadyAnchored(root);
        anchoredAt[root] = block.timestamp;
        emit RootAnchored(root);
    }

    /// @notice The leaf of a registration or revocation: (kind, EIP-712 digest of what was signed,
    /// who signed it, the content's sha256, the time in the signed message).
    function leafHash(uint8 kind, bytes32 digest, address signer, bytes32 contentHash, uint256 time)
        public
        pure
        returns (bytes32)
    {
        if (kind != REGISTRATION && kind != REVOCATION) revert UnknownKind(kind);
        return keccak256(bytes.concat(keccak256(abi.encode(kind, digest, signer, contentHash, time))));
    }

    /// @notice True when `root` is anchored here and `proof` proves the leaf made of these fields.
    function verify(
        bytes32 root,
        bytes32[] calldata proof,
        uint8 kind,
        bytes32 digest,
        address signer,
        bytes32 contentHash,
        uint256 time
    ) external view returns (bool) {
        return anchoredAt[root] != 0
            && MerkleProof.verifyCalldata(proof, root, leafHash(kind, digest, signer, contentHash, time));
    }

    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }
}
