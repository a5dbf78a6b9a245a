import Foundation
import NavetteCore
import NavetteStore

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
        if try store.state("agency", agency) == nil {
            try store.edit("agency", agency, [.set("name", .string(agency))])
        }
        if let counsellor, try store.state("counsellor", counsellor) == nil {
            try store.edit("counsellor", counsellor, [.set("agency", .string(agency)), .add("roles", element: "counsellor")])
        }
        return try registry.issueCode(
            agency: agency, counsellor: counsellor, name: name, expiresAt: now + validFor, actor: actor, now: now)
    }
}
