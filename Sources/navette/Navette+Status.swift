import ArgumentParser
import Foundation
import NavetteCore
import NavetteStore

extension Navette.Status {
    /// What a counsellor can do about a refused change.
    static func advice(_ reason: String) -> String {
        switch reason {
        case "outside-agency": "the file belongs to another agency now; tell its new referent what you changed"
        case "agency-change-not-allowed": "moving a file to another agency is an administrator's transfer"
        case "collection-not-writable": "this data is managed by the server"
        case "change-from-future": "this laptop's clock was far ahead; set it right, then sync again"
        default: "ask an administrator"
        }
    }
}

extension Navette {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the node, its records, pending changes and conflicts.")
        @OptionGroup var node: NodeOptions
        func run() throws {
            let store = try node.open()
            let s = try store.status()
            print("node        \(s.identity.node)  '\(s.identity.name)'")
            print("agency      \(s.identity.agency)")
            if let c = s.identity.counsellor { print("counsellor  \(c)") }
            let records = s.records.keys.sorted().map { "\($0) \(s.records[$0]!)" }.joined(separator: ", ")
            print("records     \(records.isEmpty ? "none" : records)")
            print("changes     \(s.changes) in the log, \(s.pending) made here not yet synced")
            print("conflicts   \(s.conflicts)\(s.conflicts > 0 ? " - 'navette conflicts' lists them" : "")")
            if s.erasedRecords > 0 { print("erased      \(s.erasedRecords) records") }
            if try store.meta("sync.revoked") != nil {
                print("sync        REVOKED by an administrator: this laptop can no longer sync; its data was removed")
                return
            }
            guard let server = try store.meta("sync.server") else {
                print("sync        not enrolled (standalone); 'navette node enrol --server URL --code CODE' connects it")
                return
            }
            let last = try store.meta("sync.lastSync").flatMap(UInt64.init)
            print("server      \(server)")
            print("last sync   \(last.map { Output.time(Timestamp(wallMillis: $0, counter: 0)) } ?? "never")")
            let offset = store.clockOffset
            if abs(offset) >= 5 * 60_000 {
                print("clock       this laptop's clock is \(abs(offset) / 60_000) minutes \(offset > 0 ? "behind" : "ahead of") the server's: set it right; edits use the server's time meanwhile")
            }
            let parked = try store.parkedChanges()
            if !parked.isEmpty {
                print("refused     \(parked.count) changes the server refused (kept on this laptop):")
                for p in parked.prefix(20) {
                    print("  \(p.id)  \(p.record)  \(p.field ?? "(record)")  \(p.reason): \(Self.advice(p.reason))")
                }
                if parked.count > 20 { print("  … and \(parked.count - 20) more") }
            }
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show recent changes: who changed which field when, never the values.")
        @OptionGroup var node: NodeOptions
        @Option(help: "How many changes to show.") var limit = 20
        func validate() throws {
            guard limit > 0 else { throw ArgumentParser.ValidationError("'--limit' must be positive, not \(limit).") }
        }
        func run() throws {
            let store = try node.open()
            let schema = store.configuration.schema
            let rows = try store.recentChanges(limit: limit).map { c -> [String] in
                var target = c.field ?? "(record)"
                // A key of a personal field may itself be personal (a barrier, a language).
                if let k = c.key, let f = c.field, schema.field(c.record.collection, f)?.personalData == .p0 {
                    target += "[\(k)]"
                } else if c.key != nil {
                    target += "[…]"
                }
                return [
                    String(c.sequence), Output.time(c.time), c.id.origin.description, c.operation + (c.isPurged ? " (purged)" : ""),
                    c.record.description, target,
                ]
            }
            Output.table(["seq", "time", "node", "op", "record", "field"], rows)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the store's current state as canonical JSON.",
            discussion: "Two stores holding the same changes print the same bytes; node-local data is left out.")
        @OptionGroup var node: NodeOptions
        func run() throws {
            print(try node.open().exportCanonical())
        }
    }
}

/// Now, as an ISO 8601 date and time in UTC.
func isoNow() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}
