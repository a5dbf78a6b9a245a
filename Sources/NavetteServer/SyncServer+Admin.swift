import Foundation
import NavetteCore
import NavetteStore
import NavetteWire

/// Why an admin operation was refused.
public struct AdminError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension SyncServer {
    /// Issues a one-time enrolment code (issuing it is the approval), and
    /// creates the agency and counsellor records the first time their ids
    /// are seen, so that the laptops of the agency receive them.
    ///
    /// - Returns: the code.
    public func issueEnrolmentCode(
        agency: String, counsellor: String?, name: String?, validFor: UInt64, actor: String
    ) async throws -> String {
        let now = nowMillis
        try await ensureReferenceData(agency: agency, counsellor: counsellor)
        return try await shared.issueCode(
            agency: agency, counsellor: counsellor, name: name, expiresAt: now + validFor, actor: actor, now: now)
    }

    func ensureReferenceData(agency: String, counsellor: String?) async throws {
        if try await records.state(RecordRef("agency", agency)) == nil {
            try await records.perform([(RecordRef("agency", agency), [.set("name", .string(agency))])])
        }
        if let counsellor, try await records.state(RecordRef("counsellor", counsellor)) == nil {
            try await records.perform([
                (RecordRef("counsellor", counsellor), [.set("agency", .string(agency)), .add("roles", element: "counsellor")])
            ])
        }
    }

    /// Moves a seeker's file to another agency (and referent). The old
    /// agency's laptops drop it at their next sync; edits they made offline
    /// are refused by id and parked on them; the new referent's laptop
    /// receives it whole.
    ///
    /// - Throws: ``AdminError`` when there is no such seeker.
    public func transfer(seeker id: String, to agency: String, referent: String?, actor: String) async throws {
        guard let state = try await records.state(RecordRef("seeker", id)), !state.isErased else {
            throw AdminError("no seeker has the id \(id)")
        }
        try await ensureReferenceData(agency: agency, counsellor: referent)
        var edits: [Edit] = [.set("agency", .string(agency))]
        edits.append(referent.map { .set("referent", .string($0)) } ?? .clear("referent"))
        try await records.perform([(RecordRef("seeker", id), edits)])
        try await shared.audit(actor: actor, action: "transfer", target: "seeker \(id) to agency \(agency)", at: nowMillis)
    }

    /// Erases a seeker and their registrations on the server: every stored
    /// value goes, change log included; the ids enter the erasure ledger;
    /// the laptops holding the file drop it at their next sync, and changes
    /// for it that arrive later are acknowledged and discarded.
    ///
    /// - Returns: the records erased.
    @discardableResult
    public func erase(seeker id: String, actor: String) async throws -> [RecordRef] {
        guard let state = try await records.state(RecordRef("seeker", id)), !state.isErased else {
            throw AdminError("no seeker has the id \(id); 'navette admin erasures' lists the requests")
        }
        let erased = [RecordRef("seeker", id)] + (try await records.registrations(ofSeeker: id)).map { RecordRef("registration", $0) }
        // The ledger first: if the erasure itself is interrupted, the next
        // start (or `admin restored`) carries it out from the ledger.
        try await shared.recordErasure(erased, actor: actor, now: nowMillis)
        try await records.perform(erased.map { ($0, [.eraseRecord]) })
        try await records.reclaimErasedSpace()
        return erased
    }

    /// Drops from the change log what is older than `keepDays` days: laptops
    /// whose place in the history is older rebuild their view from snapshots
    /// (`cursor-expired`), losing none of their own unsynced changes.
    ///
    /// - Returns: the log's new horizon.
    @discardableResult
    public func compactHistory(keepDays: Int, actor: String) async throws -> Int64 {
        let cutoff = nowMillis - UInt64(keepDays) * 86_400_000
        let horizon = try await records.compactLog(before: cutoff)
        try await shared.audit(actor: actor, action: "compact", target: "history through sequence \(horizon)", at: nowMillis)
        return horizon
    }

    /// Erases again what the ledger says was erased, if the store holds it
    /// (a store restored from a backup taken before the erasure).
    ///
    /// - Returns: how many records were erased again.
    @discardableResult
    public func reapplyErasureLedger() async throws -> Int {
        var actions: [(RecordRef, [Edit])] = []
        for (ref, _) in try await shared.erasures() {
            if let s = try await records.state(ref), !s.isErased { actions.append((ref, [.eraseRecord])) }
        }
        if !actions.isEmpty {
            try await records.perform(actions)
            try await records.reclaimErasedSpace()
        }
        return actions.count
    }

    /// Marks the storage as restored from a backup: gives it a new
    /// incarnation (taken by server processes started after this), so that
    /// every node's next pull is answered `cursor-expired` (`restored`) and
    /// it re-pulls its view and re-pushes what it holds; then erases again
    /// what the ledger names, with `extraErasures` (a ledger kept apart from
    /// the backups) added to it.
    ///
    /// - Returns: the new incarnation, and how many records were erased again.
    public func markRestored(extraErasures: [RecordRef], actor: String) async throws -> (incarnation: String, erased: Int) {
        let fresh = Self.newIncarnation()
        try await shared.setSecret("incarnation", fresh)
        try await shared.audit(actor: actor, action: "incarnation-renewed", target: "store restored from a backup", at: nowMillis)
        let known = Set(try await shared.erasures().map(\.record))
        let missing = extraErasures.filter { !known.contains($0) }
        if !missing.isEmpty { try await shared.recordErasure(missing, actor: actor, now: nowMillis) }
        return (Base64URL.encode(fresh), try await reapplyErasureLedger())
    }

    /// A seeker whose erasure a counsellor requested, or that was erased and
    /// is still on some laptops.
    public struct ErasureStatus: Hashable, Sendable {
        public var seeker: String
        /// `true` once erased on the server.
        public var erased: Bool
        /// The laptops that still hold it (to purge at their next sync).
        public var pendingOn: [NodeID]
    }

    /// Erasure requests not yet carried out, and erasures not yet purged
    /// from every laptop.
    public func erasureStatus() async throws -> [ErasureStatus] {
        var out = try await records.seekersRequestingErasure().map { ErasureStatus(seeker: $0, erased: false, pendingOn: []) }
        for (ref, _) in try await shared.erasures() where ref.collection == "seeker" {
            out.append(ErasureStatus(seeker: ref.id, erased: true, pendingOn: try await shared.holders(of: ref)))
        }
        return out
    }
}
