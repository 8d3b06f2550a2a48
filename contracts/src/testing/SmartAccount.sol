// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {SignerECDSA} from "@openzeppelin/contracts/utils/cryptography/signers/SignerECDSA.sol";

/// @notice Test-only smart-contract account (OpenZeppelin's ERC-4337 `Account` with an ECDSA
/// owner) that answers ERC-1271: a signature is valid when its owner EOA made it over the hash.
/// Stands in for Safe, Coinbase Smart Wallet and the like in the portal's tests.
contract SmartAccount is Account, SignerECDSA, IERC1271 {
    constructor(address owner) SignerECDSA(owner) {}

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        return _rawSignatureValidation(hash, signature) ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

/// @notice Deploys SmartAccounts at CREATE2 addresses known before deployment, so an account can
/// sign (ERC-6492) before it exists.
contract SmartAccountFactory {
    event AccountCreated(address indexed account, address indexed owner, bytes32 salt);

    function create(address owner, bytes32 salt) external returns (address account) {
        account = predict(owner, salt);
        if (account.code.length > 0) return account;
        account = address(new SmartAccount{salt: salt}(owner));
        emit AccountCreated(account, owner, salt);
    }

    function predict(address owner, bytes32 salt) public view returns (address) {
        bytes32 initCodeHash = keccak256(abi.encodePacked(type(SmartAccount).creationCode, abi.encode(owner)));
        return Create2.computeAddress(salt, initCodeHash);
    }
}
