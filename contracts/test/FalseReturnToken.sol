// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title FalseReturnToken
/// @notice Test token that returns `false` instead of reverting when a transfer or
/// transferFrom cannot be made (too little balance or allowance), moving nothing.
/// Like a token with a blocklist, it also refuses (returns false) transfers to a blocked
/// address. 18 decimals. Anyone may mint or block: tests only.
contract FalseReturnToken {
    string public constant name = "False-returning token (test)";
    string public constant symbol = "FALSE";
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address account => uint256) public balanceOf;
    mapping(address owner => mapping(address spender => uint256)) public allowance;
    mapping(address account => bool) public blocked;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice Mints `amount` to `to`. Test helper.
    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @notice Refuses every later transfer to `account`. Test helper.
    function blockAccount(address account) external {
        blocked[account] = true;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        return _move(msg.sender, to, value);
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed < value) return false;
        if (!_move(from, to, value)) return false;
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - value;
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private returns (bool) {
        if (balanceOf[from] < value || blocked[to]) return false;
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
        return true;
    }
}
