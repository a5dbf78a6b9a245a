import Foundation
import NavetteCore

/// A code the tool redeems, with what the server will bind the node to.
public struct EnrolmentTicket: Hashable, Sendable {
    public var code: String
    public var agency: String
    public var counsellor: String?

    public init(code: String, agency: String, counsellor: String?) {
        self.code = code
        self.agency = agency
        self.counsellor = counsellor
    }
}

/// What the tool needs from the server's operator: enrolment codes for two
/// agencies and, when it can, the admin actions some requirements need
/// (revocation, erasure, history compaction).
public protocol ConformanceAdmin: Sendable {
    /// A fresh one-time code for a laptop of the first (`0`) or second (`1`)
    /// agency. Every code of an agency binds the same counsellor.
    func enrolmentCode(agency: Int) async throws -> EnrolmentTicket
    /// Whether ``revoke(node:)``, ``erase(seeker:)`` and ``compactHistory()`` work.
    var canAdminister: Bool { get }
    func revoke(node: String) async throws
    func erase(seeker: String) async throws
    /// Drops every logged change older than now from the server's history.
    func compactHistory() async throws
}

/// Codes an operator issued for the tool, read from a JSON file:
///
/// ```json
/// {"agencies":[{"agency":"75012","counsellor":"c-0042","codes":["…","…","…","…"]},
///              {"agency":"69003","counsellor":"c-0107","codes":["…"]}]}
/// ```
///
/// The first agency needs 4 codes, the second 1. Admin actions are not
/// available: the requirements that need them are reported as not run.
public final class CodesFileAdmin: ConformanceAdmin, @unchecked Sendable {
    struct Agency {
        var agency: String
        var counsellor: String?
        var codes: [String]
    }
    var agencies: [Agency]
    let lock = NSLock()

    /// The codes each agency needs.
    public static let codesNeeded = [4, 1]

    /// - Throws: ``ConformanceError`` naming what the file lacks.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConformanceError("cannot read the codes file \(path)")
        }
        let json = try JSONValue(parsing: Array(data))
        guard let items = json["agencies"]?.arrayValue, items.count == 2 else {
            throw ConformanceError("the codes file must hold \"agencies\": two agencies, each with its codes")
        }
        agencies = try items.enumerated().map { i, item in
            guard let agency = item["agency"]?.stringValue,
                let codes = item["codes"]?.arrayValue?.compactMap(\.stringValue), codes.count >= Self.codesNeeded[i]
            else {
                throw ConformanceError(
                    "agency \(i + 1) of the codes file needs \"agency\" and at least \(Self.codesNeeded[i]) \"codes\"")
            }
            return Agency(agency: agency, counsellor: item["counsellor"]?.stringValue, codes: codes)
        }
    }

    public func enrolmentCode(agency: Int) async throws -> EnrolmentTicket {
        try lock.withLock {
            guard !agencies[agency].codes.isEmpty else {
                throw ConformanceError("the codes file has no code left for agency \(agency + 1)")
            }
            let a = agencies[agency]
            return EnrolmentTicket(code: agencies[agency].codes.removeFirst(), agency: a.agency, counsellor: a.counsellor)
        }
    }

    public var canAdminister: Bool { false }
    public func revoke(node: String) async throws { throw ConformanceError("a codes file cannot revoke") }
    public func erase(seeker: String) async throws { throw ConformanceError("a codes file cannot erase") }
    public func compactHistory() async throws { throw ConformanceError("a codes file cannot compact") }
}

/// Why the tool could not run.
public struct ConformanceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
