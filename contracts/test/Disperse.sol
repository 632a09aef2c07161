// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Disperse
/// @notice Benchmark baseline: the least a batch payout can cost, one transfer per payee
/// from this contract's own balance, no checks, no records, no events of its own.
contract Disperse {
    /// @notice Sends `amounts[i]` of `token` to `payees[i]`.
    function disperse(IERC20 token, address[] calldata payees, uint256[] calldata amounts) external {
        for (uint256 i = 0; i < payees.length; ++i) {
            require(token.transfer(payees[i], amounts[i]));
        }
    }
}
