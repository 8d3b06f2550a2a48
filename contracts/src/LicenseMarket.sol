// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title LicenseMarket
/// @notice Sells licences against quotes signed by the platform. The fee never sits with the
/// platform: each payee's share is credited to its balance here and withdrawn by the payee.
contract LicenseMarket is EIP712, ReentrancyGuard {
    struct Quote {
        bytes32 quoteId;
        uint256 workId;
        bytes32 termsHash;
        address buyer;
        uint256 price;
        address[] payees;
        uint16[] bps;
        uint64 expiry;
    }

    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(bytes32 quoteId,uint256 workId,bytes32 termsHash,address buyer,uint256 price,address[] payees,uint16[] bps,uint64 expiry)"
    );
    uint256 private constant BPS = 10_000;

    /// @notice The platform key whose signature makes a quote valid.
    address public immutable quoteSigner;

    mapping(bytes32 quoteId => bool) public used;
    mapping(address payee => uint256) public balanceOf;

    event LicensePurchased(
        bytes32 indexed quoteId, uint256 indexed workId, address indexed buyer, bytes32 termsHash, uint256 price
    );
    event Credited(bytes32 indexed quoteId, address indexed payee, uint256 amount);
    event Withdrawn(address indexed payee, uint256 amount);

    error WrongBuyer(address expected, address caller);
    error QuoteExpired(uint64 expiry);
    error WrongPrice(uint256 expected, uint256 paid);
    error QuoteAlreadyUsed(bytes32 quoteId);
    error BadSignature();
    error BadSplit();
    error NothingToWithdraw();
    error TransferFailed();

    constructor(address quoteSigner_) EIP712("Creator IP Portal Market", "1") {
        quoteSigner = quoteSigner_;
    }

    function hashQuote(Quote calldata q) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    QUOTE_TYPEHASH,
                    q.quoteId,
                    q.workId,
                    q.termsHash,
                    q.buyer,
                    q.price,
                    keccak256(abi.encodePacked(q.payees)),
                    keccak256(abi.encodePacked(q.bps)),
                    q.expiry
                )
            )
        );
    }

    /// @notice Pay for a licence. Checks buyer, expiry, exact price, single use and the
    /// platform's signature, then credits every payee; the rounding remainder goes to payees[0].
    function purchase(Quote calldata q, bytes calldata signature) external payable nonReentrant {
        if (msg.sender != q.buyer) revert WrongBuyer(q.buyer, msg.sender);
        if (block.timestamp > q.expiry) revert QuoteExpired(q.expiry);
        if (msg.value != q.price) revert WrongPrice(q.price, msg.value);
        if (used[q.quoteId]) revert QuoteAlreadyUsed(q.quoteId);
        if (ECDSA.recoverCalldata(hashQuote(q), signature) != quoteSigner) revert BadSignature();
        uint256 n = q.payees.length;
        if (n == 0 || n != q.bps.length) revert BadSplit();

        used[q.quoteId] = true;
        uint256 total;
        uint256 credited;
        for (uint256 i = 0; i < n; ++i) {
            total += q.bps[i];
        }
        if (total != BPS) revert BadSplit();
        emit LicensePurchased(q.quoteId, q.workId, q.buyer, q.termsHash, q.price);
        for (uint256 i = 1; i < n; ++i) {
            uint256 share = (q.price * q.bps[i]) / BPS;
            credited += share;
            balanceOf[q.payees[i]] += share;
            emit Credited(q.quoteId, q.payees[i], share);
        }
        uint256 first = q.price - credited;
        balanceOf[q.payees[0]] += first;
        emit Credited(q.quoteId, q.payees[0], first);
    }

    /// @notice Send the caller its whole balance.
    function withdraw() external nonReentrant {
        uint256 amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        balanceOf[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }
}
