// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IScholarshipEscrow
/// @notice A scholarship fund held in escrow: a donor funds it with one ERC-20 token,
/// registrars attest that a student registered for (or completed) a course, and each
/// attestation releases that student's scholarship to the student's wallet.
/// @dev Students are identified by `studentId = keccak256(programSalt ‖ normalised reference)`:
/// no personal data is ever passed to the contract.
interface IScholarshipEscrow {
    /// @notice The two payments a student can receive, each at most once.
    enum Milestone {
        Registration,
        Completion
    }

    /// @notice A registrar's claim that a student reached a milestone of a course.
    struct Attestation {
        bytes32 studentId;
        address payee;
        uint256 courseId;
        Milestone milestone;
    }

    /// @notice An attestation signed off-line by a registrar (EIP-712), submitted by anyone.
    /// @dev `signature` is 65 bytes `r ‖ s ‖ v` over the typed data
    /// `Attestation(bytes32 studentId,address payee,uint256 courseId,uint8 milestone,uint16 epoch,uint256 deadline)`.
    /// `epoch` is the signing registrar's epoch when it signed (see {Registrar}): a signature pays
    /// only while its registrar is active in that same epoch.
    struct SignedAttestation {
        Attestation attestation;
        uint16 epoch;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A course's payments, in the token's base units, and the provider that teaches
    /// it: only that provider's registrars may attest or reserve for it. Set by the admin only.
    struct Course {
        uint96 registrationAmount;
        uint96 completionAmount;
        bool active;
        uint16 provider;
    }

    /// @notice A registrar's standing: the most it may release in total, what it released, until
    /// when, its epoch and the provider whose courses it may attest. The epoch starts at 1 and
    /// moves on whenever an expired registrar is given a new expiry, so that what it signed
    /// before is void. A removed registrar is `retired`: its address can never be a registrar
    /// of this escrow again.
    struct Registrar {
        uint96 allowance;
        uint96 released;
        uint32 expiry;
        uint16 epoch;
        bool active;
        uint16 provider;
        bool retired;
    }

    /// @notice A registrar's reservation of a student's scholarship for a claim key: the
    /// address whose private key only the student's claim link holds.
    struct Reservation {
        bytes32 studentId;
        address claimKey;
        uint256 courseId;
        Milestone milestone;
    }

    /// @notice A student's claim of a reserved scholarship, submitted by anyone (a relayer).
    /// @dev `signature` is 65 bytes `r ‖ s ‖ v` by the reservation's claim key over the typed data
    /// `Claim(bytes32 studentId,uint8 milestone,address payee,uint256 deadline)`.
    struct Claim {
        bytes32 studentId;
        Milestone milestone;
        address payee;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A reservation not yet claimed or cancelled, as stored.
    struct Reserved {
        address claimKey;
        uint96 amount;
        address registrar;
        uint96 courseId;
    }

    /// @notice A reservation's key: a student and a milestone.
    struct ReservationKey {
        bytes32 studentId;
        Milestone milestone;
    }

    /// @notice Emitted for every payout, with everything an auditor needs.
    event ScholarshipReleased(
        bytes32 indexed studentId,
        address indexed payee,
        address indexed registrar,
        uint256 courseId,
        Milestone milestone,
        uint256 amount
    );
    /// @notice Emitted for an item of a batch whose student was already paid for its milestone:
    /// the item pays nothing and costs its registrar no allowance; the rest of the batch pays.
    event AttestationSkipped(
        uint256 index, bytes32 indexed studentId, address indexed registrar, Milestone milestone
    );
    /// @notice Emitted when `funder` funds the escrow through {fund}.
    event Funded(address indexed funder, uint256 amount, uint256 totalFunded);
    /// @notice Emitted when the remainder goes back to the donor after the program ends.
    event Reclaimed(address indexed donor, address indexed caller, uint256 amount);
    /// @notice Emitted with {Reclaimed} when part of the remainder was reserved and never
    /// claimed: `amount` of the reclaimed amount is unclaimed scholarships.
    event UnclaimedReturned(uint256 amount);
    /// @notice Emitted when a registrar is added or its allowance, expiry or provider changes.
    event RegistrarSet(
        address indexed registrar, uint256 allowance, uint256 expiry, uint256 released, uint256 epoch, uint256 provider
    );
    /// @notice Emitted when a registrar is removed; it is retired and can release nothing afterwards.
    event RegistrarRemoved(address indexed registrar, uint256 released);
    /// @notice Emitted when a course is added or its amounts, status or provider change.
    event CourseSet(
        uint256 indexed courseId, uint256 registrationAmount, uint256 completionAmount, bool active, uint256 provider
    );
    /// @notice Emitted when a registrar reserves a student's scholarship for a claim key; the
    /// amount is charged to its allowance and can be paid only by a claim signed by that key.
    event ScholarshipReserved(
        bytes32 indexed studentId,
        address indexed claimKey,
        address indexed registrar,
        uint256 courseId,
        Milestone milestone,
        uint256 amount
    );
    /// @notice Emitted with the {ScholarshipReleased} of a claim: the release came from a reservation.
    event ScholarshipClaimed(bytes32 indexed studentId, address indexed claimKey, Milestone milestone);
    /// @notice Emitted when a reservation is cancelled; its amount is back in its registrar's
    /// allowance and the student can be paid or reserved anew.
    event ReservationCancelled(
        bytes32 indexed studentId, address indexed registrar, address indexed caller, Milestone milestone, uint256 amount
    );
    /// @notice Emitted for an item of a claim batch whose reservation was claimed or cancelled
    /// already; the rest of the batch pays.
    event ClaimSkipped(uint256 index, bytes32 indexed studentId, Milestone milestone);
    /// @notice Emitted when the program end moves later.
    event ProgramEndExtended(uint256 previousEnd, uint256 newEnd);
    /// @notice Emitted when releases are paused or resumed.
    event PauseSet(address indexed account, bool paused);
    /// @notice Emitted when a token other than the scholarship token is returned.
    event TokenRescued(address indexed token, address indexed to, uint256 amount);

    /// @notice The caller is not an active registrar.
    error EscrowNotRegistrar(address account);
    /// @notice The registrar's expiry has passed.
    error EscrowRegistrarExpired(address registrar, uint256 expiry);
    /// @notice Releasing item `index` would take the registrar past its allowance.
    error EscrowRegistrarAllowanceExceeded(uint256 index, address registrar, uint256 requested, uint256 remaining);
    /// @notice The course of item `index` is unknown or inactive.
    error EscrowCourseInactive(uint256 index, uint256 courseId);
    /// @notice The course of item `index` pays nothing for this milestone.
    error EscrowNothingToRelease(uint256 index, uint256 courseId, Milestone milestone);
    /// @notice The student of item `index` was already paid for this milestone.
    error EscrowAlreadyPaid(uint256 index, bytes32 studentId, Milestone milestone);
    /// @notice Item `index` pays the zero address, the escrow or the token.
    error EscrowInvalidPayee(uint256 index, address payee);
    /// @notice Item `index` has a zero studentId.
    error EscrowInvalidStudent(uint256 index);
    /// @notice The signature of item `index` is past its deadline.
    error EscrowSignatureExpired(uint256 index, uint256 deadline);
    /// @notice The signature of item `index` is malformed or malleable (high s).
    error EscrowInvalidSignature(uint256 index);
    /// @notice The signature of item `index` recovers to `signer`, who is not an active registrar
    /// (or signed for another chain or contract).
    error EscrowInvalidSigner(uint256 index, address signer);
    /// @notice The batch is empty.
    error EscrowEmptyBatch();
    /// @notice The batch needs more than the escrow holds.
    error EscrowInsufficientFunds(uint256 requested, uint256 balance);
    /// @notice Releases are paused.
    error EscrowPaused();
    /// @notice The operation needs releases to be paused.
    error EscrowNotPaused();
    /// @notice The program ended at `programEnd`; nothing more is released.
    error EscrowProgramEnded(uint256 programEnd);
    /// @notice The program is still running until `programEnd`.
    error EscrowProgramNotEnded(uint256 programEnd);
    /// @notice The program end can only move later.
    error EscrowProgramEndNotLater(uint256 current, uint256 requested);
    /// @notice Only the admin or the donor may reclaim.
    error EscrowNotAdminOrDonor(address account);
    /// @notice The scholarship token cannot be rescued; it leaves only as scholarships or by reclaim.
    error EscrowCannotRescueScholarshipToken();
    /// @notice An amount does not fit the contract's storage (88 bits for allowances, 96 for courses).
    error EscrowAmountTooLarge(uint256 amount);
    /// @notice A constructor or admin argument is the zero address.
    error EscrowZeroAddress();
    /// @notice An amount of zero was given where it means nothing.
    error EscrowZeroAmount();
    /// @notice The signature of item `index` was made in epoch `epoch` of `signer`, which is over:
    /// the registrar expired since and was given a new expiry.
    error EscrowSignatureRevoked(uint256 index, address signer, uint256 epoch);
    /// @notice The program end may not move past `latest`, fixed at deployment with the donor.
    error EscrowProgramEndPastLatest(uint256 requested, uint256 latest);
    /// @notice The address was made a registrar too many times (65,535); use another.
    error EscrowRegistrarEpochsExhausted(address registrar);
    /// @notice A registrar's expiry may not lie past the program end.
    error EscrowRegistrarOutlivesProgram(uint256 expiry, uint256 programEnd);
    /// @notice No more than `limit` registrars may be active at once.
    error EscrowTooManyRegistrars(uint256 limit);
    /// @notice The address was removed as a registrar and is retired for good; use another.
    error EscrowRegistrarRetired(address registrar);
    /// @notice The course of item `index` belongs to another provider than the registrar's.
    error EscrowCourseNotOfRegistrar(uint256 index, uint256 courseId, address registrar);
    /// @notice The signature of item `index` has a deadline past `latest`: the most a signature
    /// may be valid for ({MAX_SIGNATURE_VALIDITY}) from now.
    error EscrowDeadlineTooFar(uint256 index, uint256 deadline, uint256 latest);
    /// @notice Item `index` names no claim key.
    error EscrowInvalidClaimKey(uint256 index);
    /// @notice Nothing is reserved for the student and milestone of item `index` (never, or
    /// claimed or cancelled already).
    error EscrowNotReserved(uint256 index, bytes32 studentId, Milestone milestone);
    /// @notice The claim of item `index` is not signed by its reservation's claim key.
    error EscrowInvalidClaimSignature(uint256 index);
    /// @notice Only the reservation's registrar or the admin may cancel it.
    error EscrowNotReservationOwner(address account);
    /// @notice The reservations would be more than the escrow holds.
    error EscrowReservationsUnfunded(uint256 reserved, uint256 balance);
    /// @notice A course id used with reservations must fit 96 bits.
    error EscrowCourseIdTooLarge(uint256 courseId);

    /// @notice Releases the scholarship for one attestation, as the calling registrar.
    /// @param attestation The student, payee, course and milestone.
    /// @return amount The amount released, in the token's base units.
    /// Emits {ScholarshipReleased}.
    function attest(Attestation calldata attestation) external returns (uint256 amount);

    /// @notice Releases the scholarships of a batch as the calling registrar. An item whose
    /// student was already paid for its milestone is skipped (it pays nothing and costs no
    /// allowance); any other bad item reverts the whole batch.
    /// @param batch The attestations; an error names the index of the first that fails.
    /// @return total The total released, in the token's base units.
    /// Emits one {ScholarshipReleased} per paid item and one {AttestationSkipped} per skipped item.
    function attestBatch(Attestation[] calldata batch) external returns (uint256 total);

    /// @notice Releases the scholarship for one attestation signed by a registrar; anyone may submit.
    /// @param signed The attestation, its deadline and the registrar's EIP-712 signature.
    /// @return amount The amount released, in the token's base units.
    /// Emits {ScholarshipReleased} naming the signing registrar.
    function attestBySig(SignedAttestation calldata signed) external returns (uint256 amount);

    /// @notice Releases a batch of signed attestations; signers may differ. An item already paid
    /// is skipped, as in {attestBatch}, so that nobody can make the batch revert by submitting
    /// one of its items first; any other bad item reverts the whole batch.
    /// @param batch The signed attestations; an error names the index of the first that fails.
    /// @return total The total released, in the token's base units.
    /// Emits one {ScholarshipReleased} per paid item and one {AttestationSkipped} per skipped item.
    function attestBatchBySig(SignedAttestation[] calldata batch) external returns (uint256 total);

    /// @notice Reserves each item's scholarship for its claim key, as the calling registrar: the
    /// amount is charged to the registrar's allowance and the student's milestone can then be
    /// paid only by a claim the key signs. Any bad item, including one already paid or
    /// reserved, reverts the whole batch; the reservations together must be funded.
    /// @return total The total reserved, in the token's base units.
    /// Emits one {ScholarshipReserved} per item.
    function reserveBatch(Reservation[] calldata batch) external returns (uint256 total);

    /// @notice Pays a reserved scholarship to the payee the claim key signed for; anyone may submit.
    /// Refused while paused and after the program end.
    /// @return amount The amount paid.
    /// Emits {ScholarshipReleased} (naming the reserving registrar) and {ScholarshipClaimed}.
    function claim(Claim calldata claim_) external returns (uint256 amount);

    /// @notice Pays a batch of claims. An item whose reservation was claimed or cancelled is
    /// skipped ({ClaimSkipped}); any other bad item reverts the whole batch.
    /// @return total The total paid.
    function claimBatch(Claim[] calldata batch) external returns (uint256 total);

    /// @notice Cancels reservations not yet claimed; each reservation's registrar or the admin
    /// may, until the program end. Each amount returns to its registrar's allowance.
    /// Emits one {ReservationCancelled} per item.
    function cancelReservations(ReservationKey[] calldata keys) external;

    /// @notice Pulls `amount` of the token from the caller into the escrow (needs an approval).
    /// @dev Plain transfers to the escrow count as funds too; they emit no {Funded}.
    /// @param amount The amount in the token's base units.
    /// Emits {Funded} with the amount actually received.
    function fund(uint256 amount) external;

    /// @notice Sends the whole remaining balance to the donor, once the program has ended.
    /// @dev Callable by the admin or the donor, also while paused.
    /// @return amount The amount returned to the donor.
    /// Emits {Reclaimed}.
    function reclaim() external returns (uint256 amount);

    /// @notice Adds a registrar or changes its allowance, expiry and provider. Admin only.
    /// @param registrar The registrar's address; never one removed before (retired).
    /// @param allowance The most it may release in total, in base units (including what it released).
    /// @param expiry The unix time after which it can release nothing; not past {programEnd}.
    /// @param provider The provider whose courses it may attest and reserve for.
    /// @dev At most `MAX_REGISTRARS` registrars are active at once, since {pause} writes each.
    /// A new registrar starts in epoch 1; giving an expired registrar a new expiry starts its
    /// next epoch, which voids every signature it made before.
    /// Emits {RegistrarSet}.
    function setRegistrar(address registrar, uint256 allowance, uint256 expiry, uint16 provider) external;

    /// @notice Removes a registrar and retires its address for good; what it released stays on
    /// record, and its reservations stay claimable until the admin cancels them. Admin only.
    /// @param registrar The registrar's address.
    /// Emits {RegistrarRemoved}.
    function removeRegistrar(address registrar) external;

    /// @notice Adds or updates a course. Admin only.
    /// @param courseId The course's identifier.
    /// @param registrationAmount Paid on the Registration milestone, in base units.
    /// @param completionAmount Paid on the Completion milestone, in base units (zero: none).
    /// @param active Whether attestations for the course pay.
    /// @param provider The provider that teaches it: only its registrars may attest for it.
    /// Emits {CourseSet}.
    function setCourse(
        uint256 courseId,
        uint256 registrationAmount,
        uint256 completionAmount,
        bool active,
        uint16 provider
    ) external;

    /// @notice Moves the program end later. Admin only, and only before the end.
    /// @param newEnd The new end, a unix time later than the current one and not past
    /// {latestProgramEnd}.
    /// @dev Registrars keep their expiry; give them a later one with {setRegistrar}.
    /// Emits {ProgramEndExtended}.
    function extendProgramEnd(uint256 newEnd) external;

    /// @notice Stops all releases. Pauser role.
    /// @dev Marks every active registrar paused, so that a release reads only its registrar's
    /// slot; the cost grows with the number of active registrars (at most `MAX_REGISTRARS`).
    /// Emits {PauseSet}.
    function pause() external;

    /// @notice Resumes releases. Admin only.
    /// @dev Clears the mark of every active registrar.
    /// Emits {PauseSet}.
    function unpause() external;

    /// @notice Returns another token sent here by mistake. Admin only; never the scholarship token.
    /// @param otherToken The token to return.
    /// @param to The receiver.
    /// @param amount The amount in that token's base units.
    /// Emits {TokenRescued}.
    function rescueToken(address otherToken, address to, uint256 amount) external;

    /// @notice The scholarship token, fixed at deployment.
    function token() external view returns (address);

    /// @notice The donor, who receives the remainder after the program ends.
    function donor() external view returns (address);

    /// @notice The unix time after which nothing is released.
    function programEnd() external view returns (uint256);

    /// @notice The latest the program end can ever move to, fixed at deployment with the donor.
    function latestProgramEnd() external view returns (uint256);

    /// @notice The block this escrow was deployed in, where its events begin: an indexer or an
    /// auditor reads it at the head, on a node that keeps no history.
    function deploymentBlock() external view returns (uint256);

    /// @notice Whether releases are paused.
    function paused() external view returns (bool);

    /// @notice The total received through {fund}, in base units.
    function totalFunded() external view returns (uint256);

    /// @notice The funds available for scholarships: the escrow's token balance.
    function budget() external view returns (uint256);

    /// @notice A registrar's allowance, released amount, expiry and status.
    function registrar(address account) external view returns (Registrar memory);

    /// @notice The registrars that are active now (set and not removed), in no particular order.
    function activeRegistrars() external view returns (address[] memory);

    /// @notice A course's amounts and status.
    function course(uint256 courseId) external view returns (Course memory);

    /// @notice Whether `studentId` was already paid for `milestone`.
    function isPaid(bytes32 studentId, Milestone milestone) external view returns (bool);

    /// @notice The paid milestones of many students at once: bit `1 << milestone` set when paid.
    /// @dev For clients checking a roster in one call instead of one per row.
    function paidMilestones(bytes32[] calldata studentIds) external view returns (uint256[] memory milestones);

    /// @notice The EIP-712 digest a registrar in epoch `epoch` signs for `attestation` with `deadline`.
    function attestationDigest(Attestation calldata attestation, uint16 epoch, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The reservation of `studentId` for `milestone`; a zero claim key if none is open.
    function reservation(bytes32 studentId, Milestone milestone) external view returns (Reserved memory);

    /// @notice The total reserved and not yet claimed or cancelled, in base units.
    function reservedTotal() external view returns (uint256);

    /// @notice The EIP-712 digest a claim key signs to have `studentId`'s `milestone` paid to
    /// `payee` until `deadline`.
    function claimDigest(bytes32 studentId, Milestone milestone, address payee, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The contract's version.
    function version() external pure returns (string memory);
}
