import ArgumentParser
import Foundation
import Logging
import NavetteCore
import NavettePostgres
import NavetteServer
import NavetteStore

extension Navette {
    struct Admin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol and revoke laptops, list them, read the audit log (on the server's data directory or database).",
            subcommands: [
                Enrol.self, Revoke.self, View.self, Transfer.self, Erase.self, Erasures.self, Nodes.self, Audit.self,
                Token.self, Compact.self, Restored.self, Ledger.self,
            ])
    }
}

/// Where the server's storage is: the options every admin command takes.
struct ServerDataOptions: ParsableArguments {
    @Option(help: "The server's data directory (the embedded SQLite store).") var data: String?
    @Option(name: .customLong("database-url"), help: "The server's PostgreSQL database, as postgres://user@host:port/database.")
    var databaseURL: String?

    func validate() throws {
        guard (data == nil) != (databaseURL == nil) else {
            throw ValidationError("give the server's storage: '--data DIR' or '--database-url postgres://…', one of them.")
        }
        if let databaseURL {
            do { _ = try PostgresURL(databaseURL) } catch let e as PostgresURL.Invalid {
                throw ValidationError("'--database-url': \(e.description).")
            }
        }
    }

    /// The admin commands' logger: warnings and errors only.
    static let adminLogger = {
        var l = Logger(label: "navette.admin")
        l.logLevel = .warning
        return l
    }()

    /// Runs `body` with the server over its storage (also while `navette
    /// serve` runs on it: every write is a transaction).
    ///
    /// - Parameter creating: make the storage when the data directory holds
    ///   none (`navette serve`); the admin commands refuse an empty one.
    func withServer<T: Sendable>(
        configuration: ServerConfiguration = ServerConfiguration(wallClock: RecordStore.systemMillis),
        logger: Logger = Self.adminLogger, creating: Bool = false, _ body: (SyncServer) async throws -> T
    ) async throws -> T {
        if let data {
            guard creating || FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent(ServerRegistry.fileName))
            else {
                throw CLIError("\(data) holds no server; start one with 'navette serve --data \(data)'")
            }
            let server = try await refusing { try await SyncServer.open(directory: data, configuration: configuration, logger: logger) }
            return try await body(server)
        }
        return try await withPostgres(databaseURL!, logger: logger) { storage in
            let server = try await SyncServer.start(
                records: storage.records, registry: storage.registry, configuration: configuration, logger: logger)
            return try await body(server)
        }
    }
}

/// Runs `body` on the PostgreSQL storage at `text`, its failures said for people.
func withPostgres<T: Sendable>(
    _ text: String, logger: Logger, _ body: (PostgresStorage) async throws -> T
) async throws -> T {
    let url = try PostgresURL(text)
    do {
        return try await PostgresStorage.with(url: url, logger: logger, body)
    } catch let e as PostgresStorage.Unavailable {
        throw CLIError(e.description)
    }
}

/// A duration such as 15m, 2h or 1d.
func parseDuration(_ text: String) -> UInt64? {
    guard let unit = text.last, let n = UInt64(text.dropLast()), n > 0 else { return nil }
    switch unit {
    case "m": return n * 60_000
    case "h": return n * 3_600_000
    case "d": return n * 86_400_000
    default: return nil
    }
}

extension Navette.Admin {
    struct Enrol: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a one-time enrolment code for a laptop: issuing it is the approval.",
            discussion: "Give the code to the counsellor out of band; it binds the laptop to the agency and counsellor.")
        @OptionGroup var server: ServerDataOptions
        @Option(help: "The agency the laptop works for.") var agency: String
        @Option(help: "The counsellor who uses it.") var counsellor: String?
        @Option(help: "A label for the laptop, shown in 'admin nodes' (default: the name it gives itself).")
        var name: String?
        @Option(name: .customLong("valid-for"), help: "How long the code is valid: 15m, 2h, 1d (at most 7d).")
        var validFor = "1h"

        func validate() throws {
            guard RecordKeys.isValidID(agency) else { throw ValidationError("'--agency' must be an agency code.") }
            if let counsellor, !RecordKeys.isValidID(counsellor) {
                throw ValidationError("'--counsellor' must be a counsellor id.")
            }
            guard let d = parseDuration(validFor), d <= 7 * 86_400_000 else {
                throw ValidationError("'--valid-for' must be a duration such as 15m, 2h or 1d, at most 7d, not '\(validFor)'.")
            }
        }

        func run() async throws {
            let (agency, counsellor, name, validFor) = (agency, counsellor, name, validFor)
            let code = try await server.withServer { sync in
                try await sync.issueEnrolmentCode(
                    agency: agency, counsellor: counsellor, name: name, validFor: parseDuration(validFor)!, actor: "admin")
            }
            print("Enrolment code for agency \(agency)\(counsellor.map { ", counsellor \($0)" } ?? ""), valid for \(validFor):")
            print(code)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a laptop: its next request is refused and it purges its data.",
            discussion: "Changes it made and did not sync are lost; the command says so and when it last synced.")
        @OptionGroup var server: ServerDataOptions
        @Argument(help: "The node id ('navette admin nodes' lists them).") var node: String

        func run() async throws {
            guard let id = NodeID(node) else { throw CLIError("'\(node)' is not a node id (16 hexadecimal digits)") }
            let node = self.node
            let record = try await server.withServer { sync -> NodeRecord in
                guard let record = try await sync.shared.node(id) else {
                    throw CLIError("no node \(node) is enrolled; 'navette admin nodes' lists them")
                }
                _ = try await sync.shared.revoke(id, actor: "admin", now: RecordStore.systemMillis())
                return record
            }
            let lastSeen = record.lastSeen.map { Output.time(Timestamp(wallMillis: $0, counter: 0)) } ?? "never"
            print("Revoked node \(node) ('\(record.name)', agency \(record.agency)); its next request is refused and it will purge its data")
            print("warning: any work this laptop made after its last sync (\(lastSeen)) is lost")
        }
    }

    struct View: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Widen a laptop's view to its whole agency (a reception desk), or narrow it back.",
            discussion: "The laptop receives or drops the files at its next sync. Authorisation to write stays agency-wide.")
        @OptionGroup var server: ServerDataOptions
        @Argument(help: "The node id.") var node: String
        @Flag(name: .customLong("agency-wide"), help: "Every seeker of the agency.") var agencyWide = false
        @Flag(help: "Only the seekers its counsellor follows.") var narrow = false

        func validate() throws {
            guard agencyWide != narrow else { throw ValidationError("give exactly one of '--agency-wide' or '--narrow'.") }
        }

        func run() async throws {
            guard let id = NodeID(node) else { throw CLIError("'\(node)' is not a node id (16 hexadecimal digits)") }
            let wide = agencyWide
            guard try await server.withServer({ try await $0.shared.setAgencyWide(id, wide, actor: "admin", now: RecordStore.systemMillis()) }) else {
                throw CLIError("no node \(node) is enrolled; 'navette admin nodes' lists them")
            }
            print("Node \(node) now holds \(agencyWide ? "every seeker of its agency" : "the seekers its counsellor follows") from its next sync")
        }
    }

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a seeker's file to another agency (and referent).",
            discussion: """
                The old agency's laptops drop the file at their next sync; edits they made offline are refused and
                shown to their counsellors by 'navette status'. The new referent's laptop receives the file whole.
                """)
        @OptionGroup var server: ServerDataOptions
        @Argument(help: "The seeker's id.") var seeker: String
        @Option(name: .customLong("to-agency"), help: "The agency that takes the file.") var toAgency: String
        @Option(help: "The counsellor who becomes its referent.") var referent: String?

        func validate() throws {
            guard RecordKeys.isValidID(toAgency) else { throw ValidationError("'--to-agency' must be an agency code.") }
            if let referent, !RecordKeys.isValidID(referent) { throw ValidationError("'--referent' must be a counsellor id.") }
        }

        func run() async throws {
            let (seeker, toAgency, referent) = (seeker, toAgency, referent)
            do {
                try await server.withServer { try await $0.transfer(seeker: seeker, to: toAgency, referent: referent, actor: "admin") }
            } catch let e as AdminError {
                throw CLIError("\(e); 'navette admin erasures' and the laptops' 'seeker list' show ids")
            }
            print("Transferred seeker \(seeker) to agency \(toAgency)\(referent.map { ", referent \($0)" } ?? " (no referent yet)")")
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a seeker and their registrations everywhere (a GDPR erasure).",
            discussion: """
                Purges every stored value on the server, change log included, records the ids in the erasure
                ledger (re-applied after a restore), and makes every laptop holding the file purge it at its next
                sync. 'navette admin erasures' shows which laptops have not purged yet.
                """)
        @OptionGroup var server: ServerDataOptions
        @Argument(help: "The seeker's id.") var seeker: String

        func run() async throws {
            let seeker = self.seeker
            let (erased, holders): ([RecordRef], [NodeID])
            do {
                (erased, holders) = try await server.withServer { sync in
                    (try await sync.erase(seeker: seeker, actor: "admin"), try await sync.shared.holders(of: RecordRef("seeker", seeker)))
                }
            } catch let e as AdminError {
                throw CLIError(e.description)
            }
            print("Erased seeker \(seeker) and \(erased.count - 1) registration\(erased.count == 2 ? "" : "s") on the server")
            print("\(holders.count) laptop\(holders.count == 1 ? "" : "s") still hold\(holders.count == 1 ? "s" : "") it and will purge it at the next sync")
        }
    }

    struct Erasures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List erasure requests from counsellors, and erasures some laptops have not purged yet.")
        @OptionGroup var server: ServerDataOptions
        func run() async throws {
            let all = try await server.withServer { try await $0.erasureStatus() }
            if all.isEmpty {
                print("(no erasure requested or pending)")
                return
            }
            Output.table(
                ["seeker", "state", "laptops still holding it"],
                all.map { e in
                    [e.seeker, e.erased ? "erased" : "requested", e.erased ? (e.pendingOn.isEmpty ? "none" : e.pendingOn.map(\.description).joined(separator: " ")) : "-"]
                })
        }
    }

    struct Nodes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List enrolled laptops: status, last sync, clock offset seen, changes refused.")
        @OptionGroup var server: ServerDataOptions
        @Flag(help: "Print JSON lines.") var json = false

        func run() async throws {
            let nodes = try await server.withServer { try await $0.shared.nodes() }
            if json {
                for n in nodes {
                    var o: [String: JSONValue] = [
                        "id": .string(n.id.description), "name": .string(n.name), "agency": .string(n.agency),
                        "status": .string(n.status.rawValue), "refused": .int(Int64(n.refused)),
                        "enrolledAt": .int(Int64(n.enrolledAt)),
                    ]
                    if let c = n.counsellor { o["counsellor"] = .string(c) }
                    if let l = n.lastSeen { o["lastSync"] = .int(Int64(l)) }
                    if let k = n.clockSkew { o["clockOffsetMillis"] = .int(k) }
                    o["view"] = .string(n.agencyWide ? "agency" : "followed")
                    print(JSONValue.object(o).canonicalString)
                }
                return
            }
            if nodes.isEmpty {
                print("(no node enrolled; 'navette admin enrol' issues a code)")
                return
            }
            Output.table(
                ["node", "agency", "counsellor", "status", "last sync", "clock", "refused", "name"],
                nodes.map { n in
                    [
                        n.id.description, n.agency, n.counsellor ?? "-", n.status.rawValue,
                        n.lastSeen.map { Output.time(Timestamp(wallMillis: $0, counter: 0)) } ?? "never",
                        n.clockSkew.map(Self.skew) ?? "-", String(n.refused), n.name,
                    ]
                })
        }

        /// A clock offset for people: "ok" within a minute, else how far and which way.
        static func skew(_ ms: Int64) -> String {
            let s = abs(ms) / 1000
            if s < 60 { return "ok" }
            let text = s >= 86_400 ? "\(s / 86_400)d" : s >= 3_600 ? "\(s / 3_600)h" : "\(s / 60)m"
            return "\(ms > 0 ? "+" : "-")\(text)"
        }
    }

    struct Compact: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop change history older than a horizon; laptops behind it rebuild their view from snapshots.")
        @OptionGroup var server: ServerDataOptions
        @Option(name: .customLong("keep-days"), help: "How many days of history to keep.") var keepDays = 90

        func validate() throws {
            guard keepDays >= 1 else { throw ValidationError("'--keep-days' must be at least 1, not \(keepDays).") }
        }

        func run() async throws {
            let keepDays = self.keepDays
            let horizon = try await server.withServer { try await $0.compactHistory(keepDays: keepDays, actor: "admin") }
            print("History kept for \(keepDays) days; the log now starts after sequence \(horizon)")
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new token for the admin HTTP API (the previous one stops working).",
            discussion: "Send it as 'Authorization: Bearer TOKEN', over HTTPS. Only its digest is kept: store it safely.")
        @OptionGroup var server: ServerDataOptions
        func run() async throws {
            let token = try await server.withServer { try await $0.rotateAdminToken(actor: "admin") }
            print("New admin API token (shown once):")
            print(token)
        }
    }

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the audit log: enrolments, codes, revocations.")
        @OptionGroup var server: ServerDataOptions
        func run() async throws {
            let entries = try await server.withServer { try await $0.shared.auditLog() }
            Output.table(
                ["seq", "time", "actor", "action", "target"],
                entries.map { [String($0.sequence), Output.time(Timestamp(wallMillis: $0.at, counter: 0)), $0.actor, $0.action, $0.target] })
        }
    }
}

extension Navette.Admin {
    struct Restored: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "After restoring the server's storage from a backup: make every laptop re-pull and re-push.",
            discussion: """
                Gives the store a new incarnation: each laptop's next pull is answered 'cursor-expired' (restored), so it \
                pulls its view again and pushes everything it holds, bringing back what the backup lost. Then erases \
                again every id of the erasure ledger, and of the ledger files given, that the store holds: a restore \
                never brings an erased person back. Run it before the server processes start again.
                (On SQLite, a store restored while server.sqlite was kept is noticed at start without this command.)
                """)
        @OptionGroup var server: ServerDataOptions
        @Option(name: .customLong("ledger"), help: "A ledger kept apart from the backups ('navette admin ledger' wrote it).")
        var ledgers: [String] = []

        func run() async throws {
            var extra: [RecordRef] = []
            for path in ledgers {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw CLIError("cannot read the ledger \(path)")
                }
                for (n, line) in text.split(separator: "\n").enumerated() where !line.hasPrefix("#") {
                    let parts = line.split(separator: " ").first.map { $0.split(separator: "/") } ?? []
                    guard parts.count == 2, RecordKeys.isValidID(String(parts[1])) else {
                        throw CLIError("\(path) line \(n + 1) is not 'collection/id …'; give the file 'navette admin ledger' wrote")
                    }
                    extra.append(RecordRef(String(parts[0]), String(parts[1])))
                }
            }
            let refs = extra
            let (incarnation, erased) = try await server.withServer { sync in
                try await sync.markRestored(extraErasures: refs, actor: "admin")
            }
            print("The store's incarnation is now \(incarnation): every laptop re-pulls and re-pushes at its next sync")
            print("\(erased) erased record\(erased == 1 ? "" : "s") found in the restored store and erased again")
        }
    }

    struct Ledger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the erasure ledger (ids and dates, never values), to keep apart from the backups.",
            discussion: "After a restore, 'navette admin restored --ledger FILE' erases again whatever the backup brought back.")
        @OptionGroup var server: ServerDataOptions

        func run() async throws {
            let entries = try await server.withServer { try await $0.shared.erasures() }
            print("# navette erasure ledger: collection/id erased-at (ms since 1970)")
            for e in entries { print("\(e.record) \(e.at)") }
        }
    }
}
