import Foundation
import NavetteCore
import NavetteStore

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
    ) throws -> String {
        let now = nowMillis
        try ensureReferenceData(agency: agency, counsellor: counsellor)
        return try registry.issueCode(
            agency: agency, counsellor: counsellor, name: name, expiresAt: now + validFor, actor: actor, now: now)
    }

    func ensureReferenceData(agency: String, counsellor: String?) throws {
        if try store.state("agency", agency) == nil {
            try store.edit("agency", agency, [.set("name", .string(agency))])
        }
        if let counsellor, try store.state("counsellor", counsellor) == nil {
            try store.edit("counsellor", counsellor, [.set("agency", .string(agency)), .add("roles", element: "counsellor")])
        }
    }

    /// Moves a seeker's file to another agency (and referent). The old
    /// agency's laptops drop it at their next sync; edits they made offline
    /// are refused by id and parked on them; the new referent's laptop
    /// receives it whole.
    ///
    /// - Throws: ``AdminError`` when there is no such seeker.
    public func transfer(seeker id: String, to agency: String, referent: String?, actor: String) throws {
        guard let state = try store.state("seeker", id), !state.isErased else {
            throw AdminError("no seeker has the id \(id)")
        }
        try ensureReferenceData(agency: agency, counsellor: referent)
        var edits: [Edit] = [.set("agency", .string(agency))]
        edits.append(referent.map { .set("referent", .string($0)) } ?? .clear("referent"))
        try store.edit("seeker", id, edits)
        try registry.audit(actor: actor, action: "transfer", target: "seeker \(id) to agency \(agency)", at: nowMillis)
    }

    /// Erases a seeker and their registrations on the server: every stored
    /// value goes, change log included; the ids enter the erasure ledger;
    /// the laptops holding the file drop it at their next sync, and changes
    /// for it that arrive later are acknowledged and discarded.
    ///
    /// - Returns: the records erased.
    @discardableResult
    public func erase(seeker id: String, actor: String) throws -> [RecordRef] {
        let erased: [RecordRef]
        do {
            erased = try store.eraseSeeker(id)
        } catch let e as StoreError {
            throw AdminError(e.message)
        }
        try registry.recordErasure(erased, actor: actor, now: nowMillis)
        return erased
    }

    /// Drops from the change log what is older than `keepDays` days: laptops
    /// whose place in the history is older rebuild their view from snapshots
    /// (`cursor-expired`), losing none of their own unsynced changes.
    ///
    /// - Returns: the log's new horizon.
    @discardableResult
    public func compactHistory(keepDays: Int, actor: String) throws -> Int64 {
        let cutoff = nowMillis - UInt64(keepDays) * 86_400_000
        let horizon = try store.compactLog(before: cutoff)
        try registry.audit(actor: actor, action: "compact", target: "history through sequence \(horizon)", at: nowMillis)
        return horizon
    }

    /// Erases again what the ledger says was erased, if the store holds it
    /// (a store restored from a backup taken before the erasure).
    ///
    /// - Returns: how many records were erased again.
    @discardableResult
    public func reapplyErasureLedger() throws -> Int {
        var count = 0
        var actions: [(RecordRef, [Edit])] = []
        for (ref, _) in try registry.erasures() {
            if let s = try store.state(ref.collection, ref.id), !s.isErased {
                actions.append((ref, [.eraseRecord]))
                count += 1
            }
        }
        if !actions.isEmpty { try store.perform(actions) }
        return count
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
    public func erasureStatus() throws -> [ErasureStatus] {
        var out: [ErasureStatus] = []
        let flag = store.configuration.schema.field("seeker", "erasureRequested")!
        for (collection, id, state) in try store.allStates() where collection == "seeker" && !state.isErased {
            if case .flag(true) = state.view(of: flag) {
                out.append(ErasureStatus(seeker: id, erased: false, pendingOn: []))
            }
        }
        for (ref, _) in try registry.erasures() where ref.collection == "seeker" {
            out.append(ErasureStatus(seeker: ref.id, erased: true, pendingOn: try registry.holders(of: ref)))
        }
        return out
    }
}
