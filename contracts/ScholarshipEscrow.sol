// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IScholarshipEscrow} from "./interfaces/IScholarshipEscrow.sol";

/// @title ScholarshipEscrow
/// @notice Holds a donor's scholarship fund and releases it, student by student, on the
/// attestation of authorised registrars. One deployment per program; not upgradeable.
/// @dev Registrars are kept in this contract's own table (they carry an allowance, an expiry
/// and an epoch); the admin role moves in two steps with a delay (OpenZeppelin
/// AccessControlDefaultAdminRules), and the pauser role (a guardian) can only pause.
/// A release reads the program's state from its registrar's slot alone: each active
/// registrar's entry carries a copy of the pause flag, and no registrar's expiry lies past
/// `programEnd` (which only moves later). That saves a cold storage read (2,100 gas) on every
/// payout, at the price of a pause that writes each active registrar (at most
/// `MAX_REGISTRARS`).
contract ScholarshipEscrow is
    IScholarshipEscrow,
    AccessControlDefaultAdminRules,
    ReentrancyGuardTransient,
    EIP712
{
    using SafeERC20 for IERC20;
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice May pause releases.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice The most registrars active at once; {pause} writes each of them.
    uint256 public constant MAX_REGISTRARS = 100;
    /// @notice The EIP-712 type a registrar signs.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 studentId,address payee,uint256 courseId,uint8 milestone,uint16 epoch,uint256 deadline)"
    );
    /// @notice The EIP-712 type a student's claim key signs.
    bytes32 public constant CLAIM_TYPEHASH =
        keccak256("Claim(bytes32 studentId,uint8 milestone,address payee,uint256 deadline)");
    /// @notice The longest a registrar's signature may be valid, counted from its submission: a
    /// deadline further away is refused, so that nothing can be signed far ahead and kept.
    uint256 public constant MAX_SIGNATURE_VALIDITY = 30 days;

    IERC20 private immutable _token;
    address private immutable _donor;
    uint256 private immutable _latestProgramEnd;
    uint256 private immutable _deploymentBlock;

    uint64 private _programEnd;
    bool private _paused;
    uint256 private _totalFunded;
    mapping(address account => Entry) private _registrars;
    EnumerableSet.AddressSet private _activeRegistrars;
    mapping(uint256 courseId => Course) private _courses;
    /// @dev Bit `1 << milestone` is set once the student was paid, or reserved, for that milestone.
    mapping(bytes32 studentId => uint256 milestones) private _paid;
    mapping(bytes32 key => Reserved) private _reservations;
    uint256 private _reservedTotal;

    /// @dev Where a registrar's address stands: never set, a registrar, or removed for good.
    enum Status {
        None,
        Active,
        Retired
    }

    /// @dev A registrar's slot, one word: its public {Registrar} fields and the copy of the
    /// pause flag.
    struct Entry {
        uint88 allowance;
        uint88 released;
        uint32 expiry;
        uint16 epoch;
        uint16 provider;
        Status status;
        bool paused;
    }

    /// @dev A registrar's standing while a batch is being recorded; written back once.
    struct Spender {
        address account;
        uint256 allowance;
        uint256 released;
        uint256 epoch;
        uint256 provider;
    }

    /// @param token_ The scholarship token (any ERC-20; decimals are never assumed).
    /// @param donor_ Receives the remainder after the program ends.
    /// @param admin Holds the admin role; may be a contract (a multisig). It moves to another
    /// address in two steps, `adminDelay` seconds apart.
    /// @param pauser Holds the pauser role: a guardian who can pause and do nothing else.
    /// @param adminDelay Seconds between proposing a new admin and its acceptance.
    /// @param programEnd_ The unix time after which nothing is released.
    /// @param latestProgramEnd_ The latest {programEnd} can ever move to, agreed with the donor.
    constructor(
        address token_,
        address donor_,
        address admin,
        address pauser,
        uint48 adminDelay,
        uint256 programEnd_,
        uint256 latestProgramEnd_
    ) AccessControlDefaultAdminRules(adminDelay, admin) EIP712("ScholarshipEscrow", "1") {
        if (token_ == address(0) || donor_ == address(0) || pauser == address(0)) revert EscrowZeroAddress();
        if (programEnd_ <= block.timestamp) revert EscrowProgramEndNotLater(block.timestamp, programEnd_);
        // Registrar expiries, which never pass the end, are stored in 32 bits (until 2106).
        if (latestProgramEnd_ < programEnd_ || latestProgramEnd_ > type(uint32).max) {
            revert EscrowProgramEndPastLatest(programEnd_, latestProgramEnd_);
        }
        _token = IERC20(token_);
        _donor = donor_;
        _latestProgramEnd = latestProgramEnd_;
        _deploymentBlock = block.number;
        _programEnd = uint64(programEnd_);
        _grantRole(PAUSER_ROLE, pauser);
    }

    // ----------------------------------------------------------------- releases

    /// @inheritdoc IScholarshipEscrow
    function attest(Attestation calldata attestation) external nonReentrant returns (uint256 amount) {
        Entry storage entry = _registrars[msg.sender];
        Spender memory spender = _spender(entry, msg.sender, false, 0);
        amount = _record(attestation, 0, spender, false);
        entry.released = uint88(spender.released);
        // A single payout past the balance is refused by the token itself (SafeERC20
        // reverts on a false return too); the explicit budget check is kept for batches.
        _token.safeTransfer(attestation.payee, amount);
    }

    /// @inheritdoc IScholarshipEscrow
    function attestBatch(Attestation[] calldata batch) external nonReentrant returns (uint256 total) {
        uint256 count = batch.length;
        if (count == 0) revert EscrowEmptyBatch();
        Spender memory spender = _spender(_registrars[msg.sender], msg.sender, false, 0);
        uint256[] memory amounts = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            amounts[i] = _record(batch[i], i, spender, true);
            total += amounts[i];
        }
        _storeReleased(spender);
        _requireFunds(total);
        for (uint256 i = 0; i < count; ++i) {
            if (amounts[i] != 0) _token.safeTransfer(batch[i].payee, amounts[i]);
        }
    }

    /// @inheritdoc IScholarshipEscrow
    function attestBySig(SignedAttestation calldata signed) external nonReentrant returns (uint256 amount) {
        address signer = _signer(signed, 0);
        Spender memory spender = _spender(_registrars[signer], signer, true, 0);
        _requireEpoch(signed, 0, spender);
        amount = _record(signed.attestation, 0, spender, false);
        _storeReleased(spender);
        _token.safeTransfer(signed.attestation.payee, amount);
    }

    /// @inheritdoc IScholarshipEscrow
    function attestBatchBySig(SignedAttestation[] calldata batch) external nonReentrant returns (uint256 total) {
        uint256 count = batch.length;
        if (count == 0) revert EscrowEmptyBatch();
        Spender memory spender = Spender(address(0), 0, 0, 0, 0);
        uint256[] memory amounts = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            address signer = _signer(batch[i], i);
            if (signer != spender.account) {
                if (spender.account != address(0)) _storeReleased(spender);
                spender = _spender(_registrars[signer], signer, true, i);
            }
            _requireEpoch(batch[i], i, spender);
            amounts[i] = _record(batch[i].attestation, i, spender, true);
            total += amounts[i];
        }
        _storeReleased(spender);
        _requireFunds(total);
        for (uint256 i = 0; i < count; ++i) {
            if (amounts[i] != 0) _token.safeTransfer(batch[i].attestation.payee, amounts[i]);
        }
    }

    // ----------------------------------------------------------------- reservations

    /// @inheritdoc IScholarshipEscrow
    function reserveBatch(Reservation[] calldata batch) external nonReentrant returns (uint256 total) {
        uint256 count = batch.length;
        if (count == 0) revert EscrowEmptyBatch();
        Spender memory spender = _spender(_registrars[msg.sender], msg.sender, false, 0);
        for (uint256 i = 0; i < count; ++i) {
            Reservation calldata item = batch[i];
            if (item.claimKey == address(0)) revert EscrowInvalidClaimKey(i);
            if (item.courseId > type(uint96).max) revert EscrowCourseIdTooLarge(item.courseId);
            uint256 amount = _charge(item.studentId, item.courseId, item.milestone, i, spender, false);
            _reservations[_key(item.studentId, item.milestone)] =
                Reserved(item.claimKey, uint96(amount), msg.sender, uint96(item.courseId));
            emit ScholarshipReserved(item.studentId, item.claimKey, msg.sender, item.courseId, item.milestone, amount);
            total += amount;
        }
        _storeReleased(spender);
        uint256 reserved = _reservedTotal + total;
        _reservedTotal = reserved;
        uint256 balance = _token.balanceOf(address(this));
        if (reserved > balance) revert EscrowReservationsUnfunded(reserved, balance);
    }

    /// @inheritdoc IScholarshipEscrow
    function claim(Claim calldata claim_) external nonReentrant returns (uint256 amount) {
        _requireOpen();
        amount = _claim(claim_, 0, false);
        _reservedTotal -= amount;
        _token.safeTransfer(claim_.payee, amount);
    }

    /// @inheritdoc IScholarshipEscrow
    function claimBatch(Claim[] calldata batch) external nonReentrant returns (uint256 total) {
        uint256 count = batch.length;
        if (count == 0) revert EscrowEmptyBatch();
        _requireOpen();
        uint256[] memory amounts = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            amounts[i] = _claim(batch[i], i, true);
            total += amounts[i];
        }
        _reservedTotal -= total;
        for (uint256 i = 0; i < count; ++i) {
            if (amounts[i] != 0) _token.safeTransfer(batch[i].payee, amounts[i]);
        }
    }

    /// @inheritdoc IScholarshipEscrow
    function cancelReservations(ReservationKey[] calldata keys) external nonReentrant {
        uint256 count = keys.length;
        if (count == 0) revert EscrowEmptyBatch();
        // After the end, what was never claimed belongs to the donor's remainder (reclaim).
        if (block.timestamp > _programEnd) revert EscrowProgramEnded(_programEnd);
        bool admin = hasRole(DEFAULT_ADMIN_ROLE, msg.sender);
        uint256 total = 0;
        for (uint256 i = 0; i < count; ++i) {
            (bytes32 studentId, Milestone milestone) = (keys[i].studentId, keys[i].milestone);
            bytes32 key = _key(studentId, milestone);
            Reserved memory reserved = _reservations[key];
            if (reserved.claimKey == address(0)) revert EscrowNotReserved(i, studentId, milestone);
            if (!admin && msg.sender != reserved.registrar) revert EscrowNotReservationOwner(msg.sender);
            delete _reservations[key];
            _paid[studentId] &= ~(uint256(1) << uint8(milestone));
            Entry storage entry = _registrars[reserved.registrar];
            entry.released -= uint88(reserved.amount);
            total += reserved.amount;
            emit ReservationCancelled(studentId, reserved.registrar, msg.sender, milestone, reserved.amount);
        }
        _reservedTotal -= total;
    }

    // ----------------------------------------------------------------- funds

    /// @inheritdoc IScholarshipEscrow
    function fund(uint256 amount) external nonReentrant {
        if (amount == 0) revert EscrowZeroAmount();
        uint256 before = _token.balanceOf(address(this));
        _token.safeTransferFrom(msg.sender, address(this), amount);
        // Count what arrived, not what was asked: a fee-taking token delivers less.
        uint256 received = _token.balanceOf(address(this)) - before;
        uint256 totalFunded_ = _totalFunded + received;
        _totalFunded = totalFunded_;
        emit Funded(msg.sender, received, totalFunded_);
    }

    /// @inheritdoc IScholarshipEscrow
    function reclaim() external nonReentrant returns (uint256 amount) {
        if (msg.sender != _donor && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert EscrowNotAdminOrDonor(msg.sender);
        }
        if (block.timestamp <= _programEnd) revert EscrowProgramNotEnded(_programEnd);
        amount = _token.balanceOf(address(this));
        if (amount == 0) revert EscrowZeroAmount();
        emit Reclaimed(_donor, msg.sender, amount);
        uint256 unclaimed = _reservedTotal;
        if (unclaimed != 0) {
            // Claims closed at the end: what was reserved and never claimed goes back too.
            _reservedTotal = 0;
            emit UnclaimedReturned(unclaimed);
        }
        _token.safeTransfer(_donor, amount);
    }

    /// @inheritdoc IScholarshipEscrow
    function rescueToken(address otherToken, address to, uint256 amount)
        external
        nonReentrant
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (otherToken == address(_token)) revert EscrowCannotRescueScholarshipToken();
        if (to == address(0)) revert EscrowZeroAddress();
        emit TokenRescued(otherToken, to, amount);
        IERC20(otherToken).safeTransfer(to, amount);
    }

    // ----------------------------------------------------------------- administration

    /// @inheritdoc IScholarshipEscrow
    function setRegistrar(address account, uint256 allowance, uint256 expiry, uint16 provider)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (account == address(0)) revert EscrowZeroAddress();
        if (allowance > type(uint88).max) revert EscrowAmountTooLarge(allowance);
        // The program end fits 32 bits (see the constructor), so a valid expiry does too.
        if (expiry > _programEnd) revert EscrowRegistrarOutlivesProgram(expiry, _programEnd);
        Entry storage entry = _registrars[account];
        Status status = entry.status;
        // A removed address never comes back: a thief's signatures die with its removal.
        if (status == Status.Retired) revert EscrowRegistrarRetired(account);
        if (status == Status.None) {
            // A never-seen address is not in the set: `add` is true, and the count grows.
            if (_activeRegistrars.add(account) && _activeRegistrars.length() > MAX_REGISTRARS) {
                revert EscrowTooManyRegistrars(MAX_REGISTRARS);
            }
            entry.epoch = 1;
            entry.status = Status.Active;
        } else if (block.timestamp > entry.expiry) {
            // An expired registrar's new term starts a new epoch: what it signed before is void.
            if (entry.epoch == type(uint16).max) revert EscrowRegistrarEpochsExhausted(account);
            entry.epoch += 1;
        }
        entry.allowance = uint88(allowance);
        entry.expiry = uint32(expiry);
        entry.provider = provider;
        entry.paused = _paused;
        emit RegistrarSet(account, allowance, expiry, entry.released, entry.epoch, provider);
    }

    /// @inheritdoc IScholarshipEscrow
    function removeRegistrar(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_activeRegistrars.remove(account)) revert EscrowNotRegistrar(account);
        Entry storage entry = _registrars[account];
        entry.status = Status.Retired;
        emit RegistrarRemoved(account, entry.released);
    }

    /// @inheritdoc IScholarshipEscrow
    function setCourse(
        uint256 courseId,
        uint256 registrationAmount,
        uint256 completionAmount,
        bool active,
        uint16 provider
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (registrationAmount > type(uint96).max) revert EscrowAmountTooLarge(registrationAmount);
        if (completionAmount > type(uint96).max) revert EscrowAmountTooLarge(completionAmount);
        _courses[courseId] = Course(uint96(registrationAmount), uint96(completionAmount), active, provider);
        emit CourseSet(courseId, registrationAmount, completionAmount, active, provider);
    }

    /// @inheritdoc IScholarshipEscrow
    function extendProgramEnd(uint256 newEnd) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 current = _programEnd;
        if (block.timestamp > current) revert EscrowProgramEnded(current);
        if (newEnd <= current) revert EscrowProgramEndNotLater(current, newEnd);
        if (newEnd > _latestProgramEnd) revert EscrowProgramEndPastLatest(newEnd, _latestProgramEnd);
        _programEnd = uint64(newEnd);
        emit ProgramEndExtended(current, newEnd);
    }

    /// @inheritdoc IScholarshipEscrow
    function pause() external onlyRole(PAUSER_ROLE) {
        if (_paused) revert EscrowPaused();
        _setPaused(true);
        emit PauseSet(msg.sender, true);
    }

    /// @inheritdoc IScholarshipEscrow
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_paused) revert EscrowNotPaused();
        _setPaused(false);
        emit PauseSet(msg.sender, false);
    }

    // ----------------------------------------------------------------- views

    /// @inheritdoc IScholarshipEscrow
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IScholarshipEscrow
    function donor() external view returns (address) {
        return _donor;
    }

    /// @inheritdoc IScholarshipEscrow
    function programEnd() external view returns (uint256) {
        return _programEnd;
    }

    /// @inheritdoc IScholarshipEscrow
    function latestProgramEnd() external view returns (uint256) {
        return _latestProgramEnd;
    }

    /// @inheritdoc IScholarshipEscrow
    function deploymentBlock() external view returns (uint256) {
        return _deploymentBlock;
    }

    /// @inheritdoc IScholarshipEscrow
    function paused() external view returns (bool) {
        return _paused;
    }

    /// @inheritdoc IScholarshipEscrow
    function totalFunded() external view returns (uint256) {
        return _totalFunded;
    }

    /// @inheritdoc IScholarshipEscrow
    function budget() external view returns (uint256) {
        return _token.balanceOf(address(this));
    }

    /// @inheritdoc IScholarshipEscrow
    function registrar(address account) external view returns (Registrar memory) {
        Entry memory entry = _registrars[account];
        return Registrar(
            entry.allowance,
            entry.released,
            entry.expiry,
            entry.epoch,
            entry.status == Status.Active,
            entry.provider,
            entry.status == Status.Retired
        );
    }

    /// @inheritdoc IScholarshipEscrow
    function activeRegistrars() external view returns (address[] memory) {
        return _activeRegistrars.values();
    }

    /// @inheritdoc IScholarshipEscrow
    function course(uint256 courseId) external view returns (Course memory) {
        return _courses[courseId];
    }

    /// @inheritdoc IScholarshipEscrow
    function isPaid(bytes32 studentId, Milestone milestone) external view returns (bool) {
        return _paid[studentId] & (1 << uint8(milestone)) != 0;
    }

    /// @inheritdoc IScholarshipEscrow
    function paidMilestones(bytes32[] calldata studentIds) external view returns (uint256[] memory milestones) {
        milestones = new uint256[](studentIds.length);
        for (uint256 i = 0; i < studentIds.length; ++i) {
            milestones[i] = _paid[studentIds[i]];
        }
    }

    /// @inheritdoc IScholarshipEscrow
    function attestationDigest(Attestation calldata attestation, uint16 epoch, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _digest(attestation, epoch, deadline);
    }

    /// @inheritdoc IScholarshipEscrow
    function reservation(bytes32 studentId, Milestone milestone) external view returns (Reserved memory) {
        return _reservations[_key(studentId, milestone)];
    }

    /// @inheritdoc IScholarshipEscrow
    function reservedTotal() external view returns (uint256) {
        return _reservedTotal;
    }

    /// @inheritdoc IScholarshipEscrow
    function claimDigest(bytes32 studentId, Milestone milestone, address payee, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _claimDigest(studentId, milestone, payee, deadline);
    }

    /// @inheritdoc IScholarshipEscrow
    function version() external pure returns (string memory) {
        return "3.1.0";
    }

    // ----------------------------------------------------------------- private

    /// @dev Sets the pause flag and its copy in every active registrar's slot.
    function _setPaused(bool paused_) private {
        _paused = paused_;
        uint256 count = _activeRegistrars.length();
        for (uint256 i = 0; i < count; ++i) {
            _registrars[_activeRegistrars.at(i)].paused = paused_;
        }
    }

    /// @dev Reverts if the program is paused or has ended. Releases call it only once their
    /// registrar's slot refused them, so that the program's state is what the error reports.
    function _requireOpen() private view {
        if (_paused) revert EscrowPaused();
        if (block.timestamp > _programEnd) revert EscrowProgramEnded(_programEnd);
    }

    function _requireFunds(uint256 amount) private view {
        uint256 balance = _token.balanceOf(address(this));
        if (amount > balance) revert EscrowInsufficientFunds(amount, balance);
    }

    /// @dev The standing of registrar `account` from its slot `entry`: the caller, or the
    /// signer of item `index` when `signed`.
    function _spender(Entry storage entry, address account, bool signed, uint256 index)
        private
        view
        returns (Spender memory)
    {
        (uint256 allowance, uint256 released, uint256 expiry, uint256 epoch, uint256 provider) =
            (entry.allowance, entry.released, entry.expiry, entry.epoch, entry.provider);
        bool active = entry.status == Status.Active;
        if (!active || entry.paused || block.timestamp > expiry) _refuse(account, expiry, active, signed, index);
        return Spender(account, allowance, released, epoch, provider);
    }

    /// @dev Reverts unless signed item `index` was signed in its registrar's current epoch.
    function _requireEpoch(SignedAttestation calldata signed, uint256 index, Spender memory spender) private pure {
        if (signed.epoch != spender.epoch) revert EscrowSignatureRevoked(index, spender.account, signed.epoch);
    }

    /// @dev Explains why a registrar's slot refused a release: a paused or ended program
    /// first, then the registrar itself. An active registrar's pause flag always equals the
    /// program's, so once the program is open only inactivity or expiry remain.
    function _refuse(address account, uint256 expiry, bool active, bool signed, uint256 index) private view {
        _requireOpen();
        if (active) revert EscrowRegistrarExpired(account, expiry);
        if (signed) revert EscrowInvalidSigner(index, account);
        revert EscrowNotRegistrar(account);
    }

    function _storeReleased(Spender memory spender) private {
        _registrars[spender.account].released = uint88(spender.released);
    }

    /// @dev Checks a claim, closes its reservation and emits its release; the transfer comes
    /// later. A reservation no longer open reverts, or when `skipClosed` emits {ClaimSkipped}.
    function _claim(Claim calldata claim_, uint256 index, bool skipClosed) private returns (uint256) {
        (bytes32 studentId, Milestone milestone, address payee) = (claim_.studentId, claim_.milestone, claim_.payee);
        bytes32 key = _key(studentId, milestone);
        Reserved memory reserved = _reservations[key];
        if (reserved.claimKey == address(0)) {
            if (!skipClosed) revert EscrowNotReserved(index, studentId, milestone);
            emit ClaimSkipped(index, studentId, milestone);
            return 0;
        }
        if (block.timestamp > claim_.deadline) revert EscrowSignatureExpired(index, claim_.deadline);
        if (payee == address(0) || payee == address(this) || payee == address(_token)) {
            revert EscrowInvalidPayee(index, payee);
        }
        // slither-disable-next-line unused-return
        (address signer, ECDSA.RecoverError status,) = ECDSA.tryRecover(
            _claimDigest(studentId, milestone, payee, claim_.deadline), claim_.signature
        );
        if (status != ECDSA.RecoverError.NoError || signer != reserved.claimKey) {
            revert EscrowInvalidClaimSignature(index);
        }
        delete _reservations[key];
        emit ScholarshipReleased(studentId, payee, reserved.registrar, reserved.courseId, milestone, reserved.amount);
        emit ScholarshipClaimed(studentId, reserved.claimKey, milestone);
        return reserved.amount;
    }

    /// @dev What course `courseId` pays for `milestone`, read from its slot in one load;
    /// reverts unless it is active, of the registrar's provider and pays something.
    function _amount(uint256 courseId, Milestone milestone, uint256 index, Spender memory spender)
        private
        view
        returns (uint256 amount)
    {
        Course storage course_ = _courses[courseId];
        uint256 word;
        // The slot holds registrationAmount (bits 0-95), completionAmount (96-191), active
        // (192-199) and provider (200-215), as Course declares them.
        assembly ("memory-safe") {
            word := sload(course_.slot)
        }
        if ((word >> 192) & 0xff == 0) revert EscrowCourseInactive(index, courseId);
        if ((word >> 200) & 0xffff != spender.provider) {
            revert EscrowCourseNotOfRegistrar(index, courseId, spender.account);
        }
        amount = (milestone == Milestone.Registration ? word : word >> 96) & type(uint96).max;
        if (amount == 0) revert EscrowNothingToRelease(index, courseId, milestone);
    }

    function _key(bytes32 studentId, Milestone milestone) private pure returns (bytes32) {
        return keccak256(abi.encode(studentId, milestone));
    }

    function _claimDigest(bytes32 studentId, Milestone milestone, address payee, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(CLAIM_TYPEHASH, studentId, milestone, payee, deadline)));
    }

    /// @dev Checks item `index`, marks it paid and emits its release; the transfer comes later.
    /// An item already paid reverts, or when `skipPaid` emits {AttestationSkipped} and returns 0.
    /// The body repeats {_charge} on purpose: calling it costs 40 gas more per payout, which
    /// puts a batch of 100 past its goal of 53,500 gas per student (bench/gas.json).
    function _record(Attestation calldata attestation, uint256 index, Spender memory spender, bool skipPaid)
        private
        returns (uint256 amount)
    {
        bytes32 studentId = attestation.studentId;
        address payee = attestation.payee;
        uint256 courseId = attestation.courseId;
        Milestone milestone = attestation.milestone;
        if (studentId == bytes32(0)) revert EscrowInvalidStudent(index);
        if (payee == address(0) || payee == address(this) || payee == address(_token)) {
            revert EscrowInvalidPayee(index, payee);
        }
        amount = _amount(courseId, milestone, index, spender);

        uint256 paid = _paid[studentId];
        uint256 bit = 1 << uint8(milestone);
        if (paid & bit != 0) {
            if (!skipPaid) revert EscrowAlreadyPaid(index, studentId, milestone);
            emit AttestationSkipped(index, studentId, spender.account, milestone);
            return 0;
        }
        uint256 released = spender.released + amount;
        if (released > spender.allowance) {
            uint256 remaining = spender.allowance > spender.released ? spender.allowance - spender.released : 0;
            revert EscrowRegistrarAllowanceExceeded(index, spender.account, amount, remaining);
        }
        spender.released = released;
        _paid[studentId] = paid | bit;
        emit ScholarshipReleased(studentId, payee, spender.account, courseId, milestone, amount);
    }

    /// @dev Charges item `index` to the registrar's allowance and marks its student's milestone
    /// taken. A milestone already taken reverts, or when `skipPaid` emits {AttestationSkipped}
    /// and returns 0.
    function _charge(
        bytes32 studentId,
        uint256 courseId,
        Milestone milestone,
        uint256 index,
        Spender memory spender,
        bool skipPaid
    ) private returns (uint256 amount) {
        if (studentId == bytes32(0)) revert EscrowInvalidStudent(index);
        amount = _amount(courseId, milestone, index, spender);

        uint256 paid = _paid[studentId];
        uint256 bit = 1 << uint8(milestone);
        if (paid & bit != 0) {
            if (!skipPaid) revert EscrowAlreadyPaid(index, studentId, milestone);
            emit AttestationSkipped(index, studentId, spender.account, milestone);
            return 0;
        }
        uint256 released = spender.released + amount;
        if (released > spender.allowance) {
            uint256 remaining = spender.allowance > spender.released ? spender.allowance - spender.released : 0;
            revert EscrowRegistrarAllowanceExceeded(index, spender.account, amount, remaining);
        }
        spender.released = released;
        _paid[studentId] = paid | bit;
    }

    function _signer(SignedAttestation calldata signed, uint256 index) private view returns (address) {
        uint256 deadline = signed.deadline;
        if (block.timestamp > deadline) revert EscrowSignatureExpired(index, deadline);
        uint256 latest = block.timestamp + MAX_SIGNATURE_VALIDITY;
        if (deadline > latest) revert EscrowDeadlineTooFar(index, deadline, latest);
        // The third value only details a failure, which `status` already reports.
        // slither-disable-next-line unused-return
        (address signer, ECDSA.RecoverError status,) =
            ECDSA.tryRecover(_digest(signed.attestation, signed.epoch, signed.deadline), signed.signature);
        if (status != ECDSA.RecoverError.NoError) revert EscrowInvalidSignature(index);
        return signer;
    }

    function _digest(Attestation calldata attestation, uint16 epoch, uint256 deadline) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTESTATION_TYPEHASH,
                    attestation.studentId,
                    attestation.payee,
                    attestation.courseId,
                    attestation.milestone,
                    epoch,
                    deadline
                )
            )
        );
    }
}
