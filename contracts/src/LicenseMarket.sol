// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";

/// @title LicenseMarket (version 2): money safe against a leaked or buggy key
/// @notice Sells licences against quotes and settlements signed by the platform; every payee's
/// share is credited to its own balance here (pull payments) and withdrawn by the payee.
///
/// What a key on the server can do, at most:
/// - SIGNER_ROLE (the platform's signing key) makes a quote or settlement payable. A settlement
///   pays out at most what was paid into it (`remaining`): a forged or faulty Merkle root can
///   move no more than its own price, never anybody else's money.
/// - OPERATOR_ROLE (the hot sending key) revokes offers, cancels signed quotes and settlements,
///   pauses one work's sales (a dispute), and releases an escrowed allocation only to a party
///   its leaf names (the payee it was held for, or the buyer), or to a party named in a decision
///   signed by a MODERATOR_ROLE key; never to the zero address or ESCROW.
/// - GUARDIAN_ROLE pauses the market (purchases, settlements, claims, releases); withdrawals of
///   what is already credited always work.
/// - The default admin (a cold owner key, transferred in two steps with a delay) grants and
///   revokes every role: rotating a key is granting the new one and revoking the old, after
///   which the old key's signatures stop working.
/// @notice The subset of EIP-3009 the market pays with: a transfer the payer signed off chain.
interface ITransferWithAuthorization {
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;
}

contract LicenseMarket is EIP712, AccessControlDefaultAdminRules, Pausable, ReentrancyGuard {
    using BitMaps for BitMaps.BitMap;
    using SafeERC20 for IERC20;

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

    /// @notice A quote priced in an ERC-20 token (a stablecoin): the same as a Quote, plus the
    /// token. Paid by the buyer's EIP-3009 authorisation (anyone may submit it: an x402 fetch)
    /// or by the buyer with an allowance (a permit or an approval).
    struct TokenQuote {
        bytes32 quoteId;
        uint256 workId;
        bytes32 termsHash;
        bytes32 offerId;
        uint8 uses;
        address token;
        address buyer;
        uint256 price;
        address[] payees;
        uint256[] amounts;
        uint64 expiry;
    }

    /// @notice The buyer's EIP-3009 TransferWithAuthorization to this market, less what the
    /// TokenQuote already says (from: the buyer, to: this market, value: the price).
    struct Authorization {
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
        bytes signature;
    }

    /// @dev `disputeEpoch` is the market's epoch when the platform signed: pausing any work's
    /// sales moves the epoch, so a settlement signed before a dispute can no longer be paid.
    struct Settlement {
        bytes32 settlementId;
        bytes32 root;
        address buyer;
        uint256 price;
        uint64 expiry;
        uint64 disputeEpoch;
    }

    /// @dev A settlement paid in an ERC-20 (`token`): its allocations are claimed in that token.
    struct TokenSettlement {
        bytes32 settlementId;
        bytes32 root;
        address token;
        address buyer;
        uint256 price;
        uint64 expiry;
        uint64 disputeEpoch;
    }

    struct Claim {
        bytes32 settlementId;
        uint256 index;
        uint256 amount;
        bytes32[] proof;
    }

    /// @dev An escrowed allocation: its leaf commits to whom it was held for and the buyer.
    struct EscrowLeaf {
        bytes32 settlementId;
        uint256 index;
        uint256 amount;
        address heldFor;
        address refundTo;
    }

    bytes32 public constant SIGNER_ROLE = keccak256("SIGNER_ROLE");
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    bytes32 public constant MODERATOR_ROLE = keccak256("MODERATOR_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(bytes32 quoteId,uint256 workId,bytes32 termsHash,bytes32 offerId,uint8 uses,address buyer,uint256 price,address[] payees,uint256[] amounts,uint64 expiry)"
    );
    bytes32 public constant TOKEN_QUOTE_TYPEHASH = keccak256(
        "TokenQuote(bytes32 quoteId,uint256 workId,bytes32 termsHash,bytes32 offerId,uint8 uses,address token,address buyer,uint256 price,address[] payees,uint256[] amounts,uint64 expiry)"
    );
    bytes32 public constant SETTLEMENT_TYPEHASH = keccak256(
        "Settlement(bytes32 settlementId,bytes32 root,address buyer,uint256 price,uint64 expiry,uint64 disputeEpoch)"
    );
    bytes32 public constant TOKEN_SETTLEMENT_TYPEHASH = keccak256(
        "TokenSettlement(bytes32 settlementId,bytes32 root,address token,address buyer,uint256 price,uint64 expiry,uint64 disputeEpoch)"
    );
    bytes32 public constant ESCROW_DECISION_TYPEHASH =
        keccak256("EscrowDecision(bytes32 settlementId,uint256 index,address to)");
    /// @notice Settlement leaves say what they are: (tag, index, payee, amount, refundTo) in
    /// OpenZeppelin's StandardMerkleTree encoding. A payee's leaf (refundTo zero) is claimed by
    /// the payee; an escrow leaf's payee is the party it is held for, refundTo the buyer.
    bytes32 public constant PAYEE_LEAF = keccak256("creator-ip-portal.payee-leaf");
    bytes32 public constant ESCROW_LEAF = keccak256("creator-ip-portal.escrow-leaf");

    /// @notice The payee of allocations held while their work is in dispute.
    address public constant ESCROW = address(uint160(uint256(keccak256("creator-ip-portal.escrow"))));
    uint8 private constant ALL_USES = 15; // licence | AI training | generative AI training | AI use per fetch

    /// @notice Quotes paid, and quotes or settlements cancelled (a paid settlement has a root).
    mapping(bytes32 id => bool) public used;
    mapping(bytes32 offerId => bool) public offerRevoked;
    mapping(uint256 workId => bool) public workPaused;
    mapping(address payee => uint256) public balanceOf;
    mapping(bytes32 settlementId => bytes32) public settlementRoot;
    /// @notice What a settlement may still pay out: its price, less every claim and release.
    mapping(bytes32 settlementId => uint256) public remaining;
    mapping(bytes32 settlementId => BitMaps.BitMap) private _claimed;

    /// @notice Each payee's credited balance in each token, and their sum per token.
    mapping(address token => mapping(address payee => uint256)) public tokenBalanceOf;
    mapping(address token => uint256) public totalTokenCredited;
    /// @notice The token a settlement was paid in (none: ETH), and each token's settled
    /// allocations not yet claimed.
    mapping(bytes32 settlementId => address) public settlementToken;
    mapping(address token => uint256) public totalTokenUnclaimed;

    /// @notice Moves whenever a work's sales are paused: settlements signed before are stale.
    uint64 public disputeEpoch;
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
    event TokenLicensePurchased(
        bytes32 indexed quoteId,
        uint256 indexed workId,
        address indexed buyer,
        address token,
        bytes32 termsHash,
        bytes32 offerId,
        uint8 uses,
        uint256 price
    );
    event TokenCredited(bytes32 indexed quoteId, address indexed token, address indexed payee, uint256 amount);
    event TokenWithdrawn(address indexed token, address indexed payee, uint256 amount);
    event Withdrawn(address indexed payee, uint256 amount);
    event OfferRevoked(bytes32 indexed offerId);
    event Cancelled(bytes32 indexed id);
    event WorkPaused(uint256 indexed workId, bool paused, uint64 disputeEpoch);
    event Settled(bytes32 indexed settlementId, address indexed buyer, bytes32 root, uint256 price);
    event TokenSettled(
        bytes32 indexed settlementId, address indexed buyer, address indexed token, bytes32 root, uint256 price
    );
    event Claimed(bytes32 indexed settlementId, uint256 indexed index, address indexed payee, uint256 amount);
    event EscrowReleased(bytes32 indexed settlementId, uint256 indexed index, address indexed to, uint256 amount);

    error WrongBuyer(address expected, address caller);
    error QuoteExpired(uint64 expiry);
    error WrongPrice(uint256 expected, uint256 paid);
    error QuoteAlreadyUsed(bytes32 quoteId);
    error OfferWithdrawn(bytes32 offerId);
    error SalesPaused(uint256 workId);
    error StaleSettlement(uint64 signedAt, uint64 current);
    error BadSignature();
    error BadSplit();
    error BadUses(uint8 uses);
    error EmptyRoot();
    error UnknownSettlement(bytes32 settlementId);
    error AlreadyClaimed(bytes32 settlementId, uint256 index);
    error BadProof();
    error Overdrawn(bytes32 settlementId, uint256 amount, uint256 remaining);
    error BadRecipient(address to);
    error BadDecision();
    error ZeroAddress();
    error NothingToWithdraw();
    error TransferFailed();

    constructor(
        address owner,
        uint48 ownerTransferDelay,
        address signer,
        address operator,
        address guardian,
        address moderator
    ) EIP712("Creator IP Portal Market", "2") AccessControlDefaultAdminRules(ownerTransferDelay, owner) {
        if (signer == address(0) || operator == address(0) || guardian == address(0) || moderator == address(0)) {
            revert ZeroAddress();
        }
        _grantRole(SIGNER_ROLE, signer);
        _grantRole(OPERATOR_ROLE, operator);
        _grantRole(GUARDIAN_ROLE, guardian);
        _grantRole(MODERATOR_ROLE, moderator);
    }

    // ------------------------------------------------------------------ hashing

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

    function hashTokenQuote(TokenQuote calldata q) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    TOKEN_QUOTE_TYPEHASH,
                    q.quoteId,
                    q.workId,
                    q.termsHash,
                    q.offerId,
                    q.uses,
                    q.token,
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
            keccak256(
                abi.encode(SETTLEMENT_TYPEHASH, s.settlementId, s.root, s.buyer, s.price, s.expiry, s.disputeEpoch)
            )
        );
    }

    function hashTokenSettlement(TokenSettlement calldata s) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    TOKEN_SETTLEMENT_TYPEHASH,
                    s.settlementId,
                    s.root,
                    s.token,
                    s.buyer,
                    s.price,
                    s.expiry,
                    s.disputeEpoch
                )
            )
        );
    }

    function hashEscrowDecision(bytes32 settlementId, uint256 index, address to) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ESCROW_DECISION_TYPEHASH, settlementId, index, to)));
    }

    /// @notice The leaf of an allocation: to a payee, or held in escrow.
    function leafHash(bytes32 tag, uint256 index, address payee, uint256 amount, address refundTo)
        public
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(tag, index, payee, amount, refundTo))));
    }

    // ------------------------------------------------------------------ paying

    /// @notice Pay for a licence. Checks buyer, expiry, offer, the work's sales, exact price,
    /// single use and the platform's signature, then credits every payee what the quote lists.
    function purchase(Quote calldata q, bytes calldata signature) external payable nonReentrant whenNotPaused {
        if (msg.sender != q.buyer) revert WrongBuyer(q.buyer, msg.sender);
        if (msg.value != q.price) revert WrongPrice(q.price, msg.value);
        _checkSale(q.quoteId, q.workId, q.offerId, q.uses, q.expiry);
        if (!_signedBy(SIGNER_ROLE, hashQuote(q), signature)) revert BadSignature();
        _checkSplit(q.payees, q.amounts, q.price);

        used[q.quoteId] = true;
        totalCredited += q.price;
        emit LicensePurchased(q.quoteId, q.workId, q.buyer, q.termsHash, q.offerId, q.uses, q.price);
        for (uint256 i = 0; i < q.payees.length; ++i) {
            balanceOf[q.payees[i]] += q.amounts[i];
            emit Credited(q.quoteId, q.payees[i], q.amounts[i]);
        }
    }

    /// @notice Pay a token-priced licence with the buyer's EIP-3009 authorisation to this market
    /// for exactly the price. Anyone may submit it (the platform's x402 facilitator does): the
    /// buyer's signature fixes who pays and how much, the platform's who is paid.
    function purchaseWithAuthorization(TokenQuote calldata q, bytes calldata signature, Authorization calldata a)
        external
        nonReentrant
        whenNotPaused
    {
        _checkTokenQuote(q, signature);
        used[q.quoteId] = true;
        // the token checks the buyer's signature, the time window and the nonce (single use)
        ITransferWithAuthorization(q.token).transferWithAuthorization(
            q.buyer, address(this), q.price, a.validAfter, a.validBefore, a.nonce, a.signature
        );
        _creditToken(q);
    }

    /// @notice Pay a token-priced licence from the buyer's allowance (an approval or a permit).
    function purchaseWithToken(TokenQuote calldata q, bytes calldata signature) external nonReentrant whenNotPaused {
        if (msg.sender != q.buyer) revert WrongBuyer(q.buyer, msg.sender);
        _checkTokenQuote(q, signature);
        used[q.quoteId] = true;
        IERC20(q.token).safeTransferFrom(msg.sender, address(this), q.price); // msg.sender is the buyer
        _creditToken(q);
    }

    /// @notice The same, with the buyer's EIP-2612 permit for the price in the same transaction
    /// (one signature in the wallet, then this call). A permit someone already submitted (its
    /// nonce used) is skipped: the allowance it set pays.
    function purchaseWithPermit(
        TokenQuote calldata q,
        bytes calldata signature,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant whenNotPaused {
        if (msg.sender != q.buyer) revert WrongBuyer(q.buyer, msg.sender);
        _checkTokenQuote(q, signature);
        used[q.quoteId] = true;
        // slither-disable-next-line unused-return
        try IERC20Permit(q.token).permit(msg.sender, address(this), q.price, deadline, v, r, s) {} catch {}
        IERC20(q.token).safeTransferFrom(msg.sender, address(this), q.price); // msg.sender is the buyer
        _creditToken(q);
    }

    /// @notice Send the caller its whole balance in `token`. Works even while the market is paused.
    function withdrawToken(address token) external nonReentrant {
        _withdrawToken(token);
    }

    /// @notice Pay a whole settlement (a training licence or an invoice covering any number of
    /// works) in one transaction; stores its root, and the price as what it may pay out.
    function settle(Settlement calldata s, bytes calldata signature) external payable nonReentrant whenNotPaused {
        if (msg.value != s.price) revert WrongPrice(s.price, msg.value);
        _checkSettlement(s.settlementId, s.root, s.buyer, s.expiry, s.disputeEpoch);
        if (!_signedBy(SIGNER_ROLE, hashSettlement(s), signature)) revert BadSignature();

        settlementRoot[s.settlementId] = s.root;
        remaining[s.settlementId] = s.price;
        totalUnclaimed += s.price;
        emit Settled(s.settlementId, s.buyer, s.root, s.price);
    }

    /// @notice Pay a settlement priced in a token from the buyer's allowance (an approval).
    function settleWithToken(TokenSettlement calldata s, bytes calldata signature) external nonReentrant whenNotPaused {
        _checkTokenSettlement(s, signature);
        _storeTokenSettlement(s);
        IERC20(s.token).safeTransferFrom(msg.sender, address(this), s.price); // msg.sender is the buyer
    }

    /// @notice The same, with the buyer's EIP-2612 permit for the price in the same transaction.
    /// A permit someone already submitted (its nonce used) is skipped: the allowance it set pays.
    function settleWithPermit(
        TokenSettlement calldata s,
        bytes calldata signature,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 ss
    ) external nonReentrant whenNotPaused {
        _checkTokenSettlement(s, signature);
        _storeTokenSettlement(s);
        // slither-disable-next-line unused-return
        try IERC20Permit(s.token).permit(msg.sender, address(this), s.price, deadline, v, r, ss) {} catch {}
        IERC20(s.token).safeTransferFrom(msg.sender, address(this), s.price); // msg.sender is the buyer
    }

    function isClaimed(bytes32 settlementId, uint256 index) external view returns (bool) {
        return _claimed[settlementId].get(index);
    }

    /// @notice Move the caller's settled allocations to its balance.
    function claim(Claim[] calldata claims) external nonReentrant whenNotPaused {
        _claimAll(claims);
    }

    /// @notice Claim every allocation given, then withdraw the whole balance: the Withdraw button.
    function claimAndWithdraw(Claim[] calldata claims) external nonReentrant whenNotPaused {
        _claimAll(claims);
        _withdraw();
    }

    /// @notice Claim every allocation given, then withdraw the whole balance in `token`.
    function claimAndWithdrawToken(Claim[] calldata claims, address token) external nonReentrant whenNotPaused {
        _claimAll(claims);
        _withdrawToken(token);
    }

    /// @notice Send the caller its whole balance. Works even while the market is paused.
    function withdraw() external nonReentrant {
        _withdraw();
    }

    // ------------------------------------------------------------------ the operator

    /// @notice Stop every unpaid quote of an offer (the creator retired it).
    function revokeOffer(bytes32 offerId) external onlyRole(OPERATOR_ROLE) {
        if (!offerRevoked[offerId]) {
            offerRevoked[offerId] = true;
            emit OfferRevoked(offerId);
        }
    }

    /// @notice Make a signed quote or settlement unpayable.
    function cancel(bytes32 id) external onlyRole(OPERATOR_ROLE) {
        if (!used[id] && settlementRoot[id] == bytes32(0)) {
            used[id] = true;
            emit Cancelled(id);
        }
    }

    /// @notice Pause (a registration dispute) or resume one work's sales. Pausing also makes
    /// every settlement signed before it stale.
    function setWorkPaused(uint256 workId, bool paused) external onlyRole(OPERATOR_ROLE) {
        if (workPaused[workId] == paused) return;
        workPaused[workId] = paused;
        if (paused) disputeEpoch += 1;
        emit WorkPaused(workId, paused, disputeEpoch);
    }

    /// @notice Credit an escrowed allocation to `to`: the payee it was held for or the buyer
    /// (both named in its leaf), or a party a moderator's signed decision names.
    function releaseEscrow(EscrowLeaf calldata e, bytes32[] calldata proof, address to, bytes calldata decision)
        external
        onlyRole(OPERATOR_ROLE)
        nonReentrant
        whenNotPaused
    {
        if (to == address(0) || to == ESCROW) revert BadRecipient(to);
        if (to != e.heldFor && to != e.refundTo) {
            if (!_signedBy(MODERATOR_ROLE, hashEscrowDecision(e.settlementId, e.index, to), decision)) {
                revert BadDecision();
            }
        }
        bytes32 leaf = leafHash(ESCROW_LEAF, e.index, e.heldFor, e.amount, e.refundTo);
        _spend(e.settlementId, e.index, e.amount, leaf, proof, to);
        emit EscrowReleased(e.settlementId, e.index, to, e.amount);
    }

    // ------------------------------------------------------------------ the guardian

    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ internals

    /// @dev True when `signature` over `digest` recovers to a holder of `role` now: a rotated-out
    /// key's signatures stop working the moment its role is revoked.
    function _signedBy(bytes32 role, bytes32 digest, bytes calldata signature) private view returns (bool) {
        // The third value (the error's argument) only says why recovery failed: unused on purpose.
        // slither-disable-next-line unused-return
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        return err == ECDSA.RecoverError.NoError && hasRole(role, signer);
    }

    function _checkSale(bytes32 quoteId, uint256 workId, bytes32 offerId, uint8 uses, uint64 expiry) private view {
        if (block.timestamp > expiry) revert QuoteExpired(expiry);
        if (used[quoteId]) revert QuoteAlreadyUsed(quoteId);
        if (offerRevoked[offerId]) revert OfferWithdrawn(offerId);
        if (workPaused[workId]) revert SalesPaused(workId);
        if (uses == 0 || uses > ALL_USES) revert BadUses(uses);
    }

    /// @dev Every payee can take its money out, and the shares add up to the price.
    function _checkSplit(address[] calldata payees, uint256[] calldata amounts, uint256 price) private pure {
        uint256 n = payees.length;
        if (n == 0 || n != amounts.length) revert BadSplit();
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            address payee = payees[i];
            if (payee == address(0) || payee == ESCROW) revert BadSplit(); // money nobody can take out
            total += amounts[i];
        }
        if (total != price) revert BadSplit();
    }

    function _checkTokenQuote(TokenQuote calldata q, bytes calldata signature) private view {
        if (q.token == address(0)) revert ZeroAddress();
        _checkSale(q.quoteId, q.workId, q.offerId, q.uses, q.expiry);
        if (!_signedBy(SIGNER_ROLE, hashTokenQuote(q), signature)) revert BadSignature();
        _checkSplit(q.payees, q.amounts, q.price);
    }

    /// @dev After the price arrived: credit every payee its share, in the token.
    function _creditToken(TokenQuote calldata q) private {
        totalTokenCredited[q.token] += q.price;
        emit TokenLicensePurchased(q.quoteId, q.workId, q.buyer, q.token, q.termsHash, q.offerId, q.uses, q.price);
        for (uint256 i = 0; i < q.payees.length; ++i) {
            tokenBalanceOf[q.token][q.payees[i]] += q.amounts[i];
            emit TokenCredited(q.quoteId, q.token, q.payees[i], q.amounts[i]);
        }
    }

    function _claimAll(Claim[] calldata claims) private {
        for (uint256 i = 0; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            bytes32 leaf = leafHash(PAYEE_LEAF, c.index, msg.sender, c.amount, address(0));
            _spend(c.settlementId, c.index, c.amount, leaf, c.proof, msg.sender);
            emit Claimed(c.settlementId, c.index, msg.sender, c.amount);
        }
    }

    /// @dev One allocation of a settlement leaves it: proven, once, within what it may still pay,
    /// and credited to `to` in what the settlement was paid in.
    function _spend(
        bytes32 settlementId,
        uint256 index,
        uint256 amount,
        bytes32 leaf,
        bytes32[] calldata proof,
        address to
    ) private {
        bytes32 root = settlementRoot[settlementId];
        if (root == bytes32(0)) revert UnknownSettlement(settlementId);
        if (_claimed[settlementId].get(index)) revert AlreadyClaimed(settlementId, index);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert BadProof();
        uint256 left = remaining[settlementId];
        if (amount > left) revert Overdrawn(settlementId, amount, left);
        _claimed[settlementId].set(index);
        remaining[settlementId] = left - amount;
        address token = settlementToken[settlementId];
        if (token == address(0)) {
            totalUnclaimed -= amount;
            totalCredited += amount;
            balanceOf[to] += amount;
        } else {
            totalTokenUnclaimed[token] -= amount;
            totalTokenCredited[token] += amount;
            tokenBalanceOf[token][to] += amount;
        }
    }

    /// @dev What every settlement is checked for, whatever it is paid in.
    function _checkSettlement(bytes32 settlementId, bytes32 root, address buyer, uint64 expiry, uint64 epoch)
        private
        view
    {
        if (msg.sender != buyer) revert WrongBuyer(buyer, msg.sender);
        if (block.timestamp > expiry) revert QuoteExpired(expiry);
        // a settled id is known by its stored root (no second write): `used` marks cancelled ones
        if (used[settlementId] || settlementRoot[settlementId] != bytes32(0)) revert QuoteAlreadyUsed(settlementId);
        if (root == bytes32(0)) revert EmptyRoot();
        if (epoch != disputeEpoch) revert StaleSettlement(epoch, disputeEpoch);
    }

    function _checkTokenSettlement(TokenSettlement calldata s, bytes calldata signature) private view {
        if (s.token == address(0)) revert ZeroAddress();
        _checkSettlement(s.settlementId, s.root, s.buyer, s.expiry, s.disputeEpoch);
        if (!_signedBy(SIGNER_ROLE, hashTokenSettlement(s), signature)) revert BadSignature();
    }

    /// @dev Before the price is taken (checks, effects, then the token's transfer).
    function _storeTokenSettlement(TokenSettlement calldata s) private {
        settlementRoot[s.settlementId] = s.root;
        settlementToken[s.settlementId] = s.token;
        remaining[s.settlementId] = s.price;
        totalTokenUnclaimed[s.token] += s.price;
        emit TokenSettled(s.settlementId, s.buyer, s.token, s.root, s.price);
    }

    function _withdrawToken(address token) private {
        uint256 amount = tokenBalanceOf[token][msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        tokenBalanceOf[token][msg.sender] = 0;
        totalTokenCredited[token] -= amount;
        emit TokenWithdrawn(token, msg.sender, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
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
