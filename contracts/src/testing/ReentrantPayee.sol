// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Test-only payee that calls the market again from inside the payment it receives,
/// with the same call data it started with (withdraw, or claimAndWithdraw with its claims).
contract ReentrantPayee {
    address public immutable market;
    bytes private _call;
    uint256 public reentered;
    bool public reentrySucceeded;

    constructor(address market_) {
        market = market_;
    }

    function attack(bytes calldata data) external {
        _call = data;
        (bool ok, bytes memory reason) = market.call(data);
        if (!ok) {
            assembly {
                revert(add(reason, 32), mload(reason))
            }
        }
    }

    receive() external payable {
        reentered += 1;
        if (reentered == 1) {
            (bool ok,) = market.call(_call);
            reentrySucceeded = ok;
        }
    }
}
