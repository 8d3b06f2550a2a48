// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IMarket {
    function withdraw() external;
}

/// @notice Test-only payee that tries to withdraw again from inside the payment it receives.
contract ReentrantPayee {
    IMarket public immutable market;
    uint256 public reentered;
    bool public reentrySucceeded;

    constructor(IMarket market_) {
        market = market_;
    }

    function attack() external {
        market.withdraw();
    }

    receive() external payable {
        reentered += 1;
        if (reentered == 1) {
            try market.withdraw() {
                reentrySucceeded = true;
            } catch {
                reentrySucceeded = false;
            }
        }
    }
}
