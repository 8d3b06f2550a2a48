// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @notice Checks a signature the way ERC-6492 defines, for every kind of account, in one
/// `eth_call` and without a transaction: this contract is never deployed; its creation code
/// (plus the encoded constructor arguments) is the call's data, and the constructor returns one
/// byte, 0x01 when the signature is valid and 0x00 when it is not.
///
/// 1. A signature that ends with the ERC-6492 suffix is `abi.encode(factory, factoryCalldata,
///    innerSignature) ++ suffix`: when the account has no code yet, the factory call deploys it
///    (inside the call only; nothing is kept), then the inner signature is checked with
///    ERC-1271. A wrapped signature for an account already deployed is checked against the
///    deployed code.
/// 2. Otherwise OpenZeppelin's SignatureChecker: an ECDSA signature by `signer` (an EOA), or,
///    when `signer` has code, its ERC-1271 `isValidSignature`.
contract UniversalSignatureCheck {
    bytes32 private constant ERC6492_SUFFIX = 0x6492649264926492649264926492649264926492649264926492649264926492;

    constructor(address signer, bytes32 hash, bytes memory signature) {
        bool valid = _check(signer, hash, signature);
        assembly ("memory-safe") {
            mstore(0, valid)
            return(31, 1)
        }
    }

    function _check(address signer, bytes32 hash, bytes memory signature) private returns (bool) {
        uint256 length = signature.length;
        if (length < 32 || _lastWord(signature) != ERC6492_SUFFIX) {
            return SignatureChecker.isValidSignatureNow(signer, hash, signature);
        }
        assembly ("memory-safe") {
            mstore(signature, sub(length, 32)) // drop the suffix before decoding
        }
        (address factory, bytes memory factoryCalldata, bytes memory inner) =
            abi.decode(signature, (address, bytes, bytes));
        if (signer.code.length == 0) {
            (bool deployed,) = factory.call(factoryCalldata);
            if (!deployed || signer.code.length == 0) return false;
        }
        return SignatureChecker.isValidERC1271SignatureNow(signer, hash, inner);
    }

    function _lastWord(bytes memory data) private pure returns (bytes32 word) {
        assembly ("memory-safe") {
            word := mload(add(data, mload(data)))
        }
    }
}
