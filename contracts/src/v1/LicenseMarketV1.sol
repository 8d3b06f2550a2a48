// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title LicenseMarketV1 (version 1, kept so deployed markets stay usable: claims and withdrawals)
/// @notice Sells licences against quotes and settlements signed by the platform. The money never
/// sits with the platform: every payee's share is credited to its own balance here (pull
/// payments) and withdrawn by the payee.
///
/// Two ways to pay:
/// - `purchase`: one quote for one work, with an explicit (payee, amount) list credited at once.
/// - `settle`: one transaction for any number of works. The signed settlement commits to the
///   Merkle root of its (index, payee, amount) allocations (OpenZeppelin StandardMerkleTree
///   leaves); each payee later claims with a proof, and claimed flags live in a BitMap, so the
///   gas of paying stays flat in the number of works and payees.
///
/// Allocations to `ESCROW` (a work in dispute) are released by the operator to whoever the
/// moderators decide, never to the platform.
contract LicenseMarketV1 is EIP712, ReentrancyGuard {
    using BitMaps for BitMaps.BitMap;

    struct Quote {
        bytes32 quoteId;
        uint256 workId;
        bytes32 termsHash;
        bytes32 offerId;
        uint8 uses;
        address buyer;
        uint256 price;
        address[] payees;
        uint256[] amounts;
        uint64 expiry;
    }

    struct Settlement {
        bytes32 settlementId;
        bytes32 root;
        address buyer;
        uint256 price;
        uint64 expiry;
    }

    struct Claim {
        bytes32 settlementId;
        uint256 index;
        uint256 amount;
        bytes32[] proof;
    }

    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(bytes32 quoteId,uint256 workId,bytes32 termsHash,bytes32 offerId,uint8 uses,address buyer,uint256 price,address[] payees,uint256[] amounts,uint64 expiry)"
    );
    bytes32 public constant SETTLEMENT_TYPEHASH =
        keccak256("Settlement(bytes32 settlementId,bytes32 root,address buyer,uint256 price,uint64 expiry)");

    /// @notice The payee of allocations held while their work is in dispute.
    address public constant ESCROW = address(uint160(uint256(keccak256("creator-ip-portal.escrow"))));
    uint8 private constant ALL_USES = 7; // licence | AI training | generative AI training

    /// @notice The platform key whose signature makes a quote or settlement valid.
    address public immutable quoteSigner;
    /// @notice The platform's sending key: revokes offers and releases escrow.
    address public immutable operator;

    mapping(bytes32 id => bool) public used;
    mapping(bytes32 offerId => bool) public offerRevoked;
    mapping(address payee => uint256) public balanceOf;
    mapping(bytes32 settlementId => bytes32) public settlementRoot;
    mapping(bytes32 settlementId => BitMaps.BitMap) private _claimed;

    /// @notice Sum of every balanceOf: what payees may withdraw now.
    uint256 public totalCredited;
    /// @notice Settled allocations not yet claimed.
    uint256 public totalUnclaimed;

    event LicensePurchased(
        bytes32 indexed quoteId,
        uint256 indexed workId,
        address indexed buyer,
        bytes32 termsHash,
        bytes32 offerId,
        uint8 uses,
        uint256 price
    );
    event Credited(bytes32 indexed quoteId, address indexed payee, uint256 amount);
    event Withdrawn(address indexed payee, uint256 amount);
    event OfferRevoked(bytes32 indexed offerId);
    event Settled(bytes32 indexed settlementId, address indexed buyer, bytes32 root, uint256 price);
    event Claimed(bytes32 indexed settlementId, uint256 indexed index, address indexed payee, uint256 amount);
    event EscrowReleased(bytes32 indexed settlementId, uint256 indexed index, address indexed to, uint256 amount);

    error WrongBuyer(address expected, address caller);
    error QuoteExpired(uint64 expiry);
    error WrongPrice(uint256 expected, uint256 paid);
    error QuoteAlreadyUsed(bytes32 quoteId);
    error OfferWithdrawn(bytes32 offerId);
    error BadSignature();
    error BadSplit();
    error BadUses(uint8 uses);
    error EmptyRoot();
    error UnknownSettlement(bytes32 settlementId);
    error AlreadyClaimed(bytes32 settlementId, uint256 index);
    error BadProof();
    error NotOperator(address caller);
    error NothingToWithdraw();
    error TransferFailed();

    modifier onlyOperator() {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        _;
    }

    constructor(address quoteSigner_, address operator_) EIP712("Creator IP Portal Market", "1") {
        quoteSigner = quoteSigner_;
        operator = operator_;
    }

    function hashQuote(Quote calldata q) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    QUOTE_TYPEHASH,
                    q.quoteId,
                    q.workId,
                    q.termsHash,
                    q.offerId,
                    q.uses,
                    q.buyer,
                    q.price,
                    keccak256(abi.encodePacked(q.payees)),
                    keccak256(abi.encodePacked(q.amounts)),
                    q.expiry
                )
            )
        );
    }

    function hashSettlement(Settlement calldata s) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(SETTLEMENT_TYPEHASH, s.settlementId, s.root, s.buyer, s.price, s.expiry))
        );
    }

    /// @notice Pay for a licence. Checks buyer, expiry, offer, exact price, single use and the
    /// platform's signature, then credits every payee exactly the amount the quote lists.
    function purchase(Quote calldata q, bytes calldata signature) external payable nonReentrant {
        if (msg.sender != q.buyer) revert WrongBuyer(q.buyer, msg.sender);
        if (block.timestamp > q.expiry) revert QuoteExpired(q.expiry);
        if (msg.value != q.price) revert WrongPrice(q.price, msg.value);
        if (used[q.quoteId]) revert QuoteAlreadyUsed(q.quoteId);
        if (offerRevoked[q.offerId]) revert OfferWithdrawn(q.offerId);
        if (q.uses == 0 || q.uses > ALL_USES) revert BadUses(q.uses);
        if (ECDSA.recoverCalldata(hashQuote(q), signature) != quoteSigner) revert BadSignature();
        uint256 n = q.payees.length;
        if (n == 0 || n != q.amounts.length) revert BadSplit();
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            total += q.amounts[i];
        }
        if (total != q.price) revert BadSplit();

        used[q.quoteId] = true;
        totalCredited += q.price;
        emit LicensePurchased(q.quoteId, q.workId, q.buyer, q.termsHash, q.offerId, q.uses, q.price);
        for (uint256 i = 0; i < n; ++i) {
            balanceOf[q.payees[i]] += q.amounts[i];
            emit Credited(q.quoteId, q.payees[i], q.amounts[i]);
        }
    }

    /// @notice Pay a whole settlement (a training licence or an invoice covering any number of
    /// works) in one transaction; stores its Merkle root for the payees to claim from.
    function settle(Settlement calldata s, bytes calldata signature) external payable nonReentrant {
        if (msg.sender != s.buyer) revert WrongBuyer(s.buyer, msg.sender);
        if (block.timestamp > s.expiry) revert QuoteExpired(s.expiry);
        if (msg.value != s.price) revert WrongPrice(s.price, msg.value);
        if (used[s.settlementId]) revert QuoteAlreadyUsed(s.settlementId);
        if (s.root == bytes32(0)) revert EmptyRoot();
        if (ECDSA.recoverCalldata(hashSettlement(s), signature) != quoteSigner) revert BadSignature();

        used[s.settlementId] = true;
        settlementRoot[s.settlementId] = s.root;
        totalUnclaimed += s.price;
        emit Settled(s.settlementId, s.buyer, s.root, s.price);
    }

    function isClaimed(bytes32 settlementId, uint256 index) external view returns (bool) {
        return _claimed[settlementId].get(index);
    }

    /// @notice Move the caller's settled allocations to its balance.
    function claim(Claim[] calldata claims) external nonReentrant {
        _claimAll(claims);
    }

    /// @notice Claim every allocation given, then withdraw the whole balance: the Withdraw button.
    function claimAndWithdraw(Claim[] calldata claims) external nonReentrant {
        _claimAll(claims);
        _withdraw();
    }

    /// @notice Send the caller its whole balance.
    function withdraw() external nonReentrant {
        _withdraw();
    }

    /// @notice Stop every unpaid quote of an offer (the creator withdrew it).
    function revokeOffer(bytes32 offerId) external onlyOperator {
        if (!offerRevoked[offerId]) {
            offerRevoked[offerId] = true;
            emit OfferRevoked(offerId);
        }
    }

    /// @notice Credit an escrowed allocation to `to` (the party a moderator's decision names).
    function releaseEscrow(bytes32 settlementId, uint256 index, uint256 amount, bytes32[] calldata proof, address to)
        external
        onlyOperator
        nonReentrant
    {
        _claimOne(settlementId, index, ESCROW, amount, proof);
        balanceOf[to] += amount;
        emit EscrowReleased(settlementId, index, to, amount);
    }

    function _claimAll(Claim[] calldata claims) private {
        for (uint256 i = 0; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            _claimOne(c.settlementId, c.index, msg.sender, c.amount, c.proof);
            balanceOf[msg.sender] += c.amount;
            emit Claimed(c.settlementId, c.index, msg.sender, c.amount);
        }
    }

    function _claimOne(bytes32 settlementId, uint256 index, address payee, uint256 amount, bytes32[] calldata proof)
        private
    {
        bytes32 root = settlementRoot[settlementId];
        if (root == bytes32(0)) revert UnknownSettlement(settlementId);
        if (_claimed[settlementId].get(index)) revert AlreadyClaimed(settlementId, index);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(index, payee, amount))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert BadProof();
        _claimed[settlementId].set(index);
        totalUnclaimed -= amount;
        totalCredited += amount;
    }

    function _withdraw() private {
        uint256 amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        balanceOf[msg.sender] = 0;
        totalCredited -= amount;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }
}
