// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title FloorRelease
/// @notice Benchmark floor: the least a registrar-gated release can cost. Registrars in a
/// table (a program has several), one paid flag per student, one SafeERC20 transfer and one
/// event per payout; the caller names the amount. No courses, allowances, expiry, pause or
/// program end. Its reservations are the least a reserve-then-claim can cost with the same
/// duties as the escrow's: the student marked paid (no other path may pay it), the claim key,
/// amount, registrar and course kept for the claim's release event, one event; a claim
/// recovers one signature over a digest of the student, payee and deadline, clears the
/// reservation, transfers and emits once.
contract FloorRelease {
    using SafeERC20 for IERC20;

    /// @notice One payout of a batch.
    struct Release {
        bytes32 studentId;
        address payee;
        uint256 amount;
    }

    /// @notice One reservation of a batch.
    struct FloorReservation {
        bytes32 studentId;
        address claimKey;
        uint96 amount;
        uint96 courseId;
    }

    /// @notice One claim of a batch.
    struct FloorClaim {
        bytes32 studentId;
        address payee;
        uint256 deadline;
        bytes signature;
    }

    struct Slot {
        address claimKey;
        uint96 amount;
        address registrar;
        uint96 courseId;
    }

    IERC20 private immutable _token;
    mapping(address account => bool) private _registrars;
    mapping(bytes32 studentId => bool) private _paid;
    mapping(bytes32 studentId => Slot) private _reserved;

    /// @notice Emitted for every reservation.
    event Reserved(bytes32 indexed studentId, address indexed claimKey, uint256 amount);
    /// @notice Emitted for every claim.
    event Claimed(
        bytes32 indexed studentId, address indexed payee, address indexed registrar, uint256 courseId, uint256 amount
    );
    /// @notice The claim is not signed by the student's claim key.
    error FloorBadClaim(bytes32 studentId);

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

    /// @notice Reserves each item for its claim key, once per student.
    function reserveBatch(FloorReservation[] calldata batch) external {
        if (!_registrars[msg.sender]) revert FloorNotRegistrar(msg.sender);
        for (uint256 i = 0; i < batch.length; ++i) {
            bytes32 studentId = batch[i].studentId;
            if (_paid[studentId]) revert FloorAlreadyPaid(studentId);
            _paid[studentId] = true;
            _reserved[studentId] = Slot(batch[i].claimKey, batch[i].amount, msg.sender, batch[i].courseId);
            emit Reserved(studentId, batch[i].claimKey, batch[i].amount);
        }
    }

    /// @notice Pays each claim signed by its student's claim key.
    function claimBatch(FloorClaim[] calldata batch) external {
        for (uint256 i = 0; i < batch.length; ++i) {
            FloorClaim calldata item = batch[i];
            Slot memory slot = _reserved[item.studentId];
            bytes32 digest = keccak256(abi.encode(address(this), item.studentId, item.payee, item.deadline));
            if (block.timestamp > item.deadline || ECDSA.recover(digest, item.signature) != slot.claimKey) {
                revert FloorBadClaim(item.studentId);
            }
            delete _reserved[item.studentId];
            emit Claimed(item.studentId, item.payee, slot.registrar, slot.courseId, slot.amount);
            _token.safeTransfer(item.payee, slot.amount);
        }
    }

    /// @notice The digest a claim key signs for the floor.
    function claimDigest(bytes32 studentId, address payee, uint256 deadline) external view returns (bytes32) {
        return keccak256(abi.encode(address(this), studentId, payee, deadline));
    }

    function _release(bytes32 studentId, address payee, uint256 amount) private {
        if (_paid[studentId]) revert FloorAlreadyPaid(studentId);
        _paid[studentId] = true;
        emit Released(studentId, payee, amount);
        _token.safeTransfer(payee, amount);
    }
}
