import Foundation
import NavetteCore
import NavetteServer
import NavetteStore

/// The admin side of the tool against a Navette server whose data directory
/// it can open (`--data` or `--database-url`), as `navette admin` does: it issues codes for two
/// agencies of its own and carries out revocation, erasure and compaction.
public final class LocalServerAdmin: ConformanceAdmin, @unchecked Sendable {
    let server: SyncServer
    /// The agencies and counsellors the codes bind; unique per run.
    public let agencies: [(agency: String, counsellor: String)]

    /// - Parameter server: the server over the data directory (it may be
    ///   running in another process on the same directory).
    public init(server: SyncServer) {
        self.server = server
        let run = String(UUID().uuidString.lowercased().prefix(8))
        agencies = [("conf-\(run)-a", "conf-\(run)-ca"), ("conf-\(run)-b", "conf-\(run)-cb")]
    }

    public func enrolmentCode(agency: Int) async throws -> EnrolmentTicket {
        let (a, c) = agencies[agency]
        let code = try await server.issueEnrolmentCode(
            agency: a, counsellor: c, name: "conformance", validFor: 3_600_000, actor: "navette-conformance")
        return EnrolmentTicket(code: code, agency: a, counsellor: c)
    }

    public var canAdminister: Bool { true }

    public func revoke(node: String) async throws {
        guard let id = NodeID(node), try await server.shared.revoke(id, actor: "navette-conformance", now: server.configuration.wallClock())
        else { throw ConformanceError("the node \(node) could not be revoked") }
    }

    public func erase(seeker: String) async throws {
        try await server.erase(seeker: seeker, actor: "navette-conformance")
    }

    public func compactHistory() async throws {
        try await server.compactHistory(keepDays: 0, actor: "navette-conformance")
    }
}
