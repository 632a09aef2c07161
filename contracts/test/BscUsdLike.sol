// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BscUsdLike
/// @notice Test token behaving like BSC-USD (USDT on BNB Chain): 18 decimals, standard
/// ERC-20 that returns `bool` and reverts on failure. Anyone may mint: tests only.
contract BscUsdLike is ERC20 {
    constructor() ERC20("Tether USD (test)", "USDT") {}

    /// @notice Mints `amount` to `to`. Test helper.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
