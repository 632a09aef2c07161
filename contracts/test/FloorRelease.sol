// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title FloorRelease
/// @notice Benchmark floor: the least a registrar-gated release can cost. Registrars in a
/// table (a program has several), one paid flag per student, one SafeERC20 transfer and one
/// event per payout; the caller names the amount. No courses, allowances, expiry, pause or
/// program end.
contract FloorRelease {
    using SafeERC20 for IERC20;

    /// @notice One payout of a batch.
    struct Release {
        bytes32 studentId;
        address payee;
        uint256 amount;
    }

    IERC20 private immutable _token;
    mapping(address account => bool) private _registrars;
    mapping(bytes32 studentId => bool) private _paid;

    /// @notice Emitted for every payout.
    event Released(bytes32 indexed studentId, address indexed payee, uint256 amount);

    /// @notice The caller is not the registrar.
    error FloorNotRegistrar(address account);
    /// @notice The student was paid before.
    error FloorAlreadyPaid(bytes32 studentId);

    /// @param token_ The token paid out.
    /// @param registrars The accounts that may release.
    constructor(IERC20 token_, address[] memory registrars) {
        _token = token_;
        for (uint256 i = 0; i < registrars.length; ++i) {
            _registrars[registrars[i]] = true;
        }
    }

    /// @notice Pays `amount` to `payee` for `studentId`, once.
    function release(bytes32 studentId, address payee, uint256 amount) external {
        if (!_registrars[msg.sender]) revert FloorNotRegistrar(msg.sender);
        _release(studentId, payee, amount);
    }

    /// @notice Pays each release of `batch`, once per student.
    function releaseBatch(Release[] calldata batch) external {
        if (!_registrars[msg.sender]) revert FloorNotRegistrar(msg.sender);
        for (uint256 i = 0; i < batch.length; ++i) {
            _release(batch[i].studentId, batch[i].payee, batch[i].amount);
        }
    }

    function _release(bytes32 studentId, address payee, uint256 amount) private {
        if (_paid[studentId]) revert FloorAlreadyPaid(studentId);
        _paid[studentId] = true;
        emit Released(studentId, payee, amount);
        _token.safeTransfer(payee, amount);
    }
}
