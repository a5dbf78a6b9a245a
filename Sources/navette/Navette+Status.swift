import ArgumentParser
import Foundation
import NavetteCore
import NavetteStore

extension Navette {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the node, its records, pending changes and conflicts.")
        @OptionGroup var node: NodeOptions
        func run() throws {
            let s = try node.open().status()
            print("node        \(s.identity.node)  '\(s.identity.name)'")
            print("agency      \(s.identity.agency)")
            if let c = s.identity.counsellor { print("counsellor  \(c)") }
            let records = s.records.keys.sorted().map { "\($0) \(s.records[$0]!)" }.joined(separator: ", ")
            print("records     \(records.isEmpty ? "none" : records)")
            print("changes     \(s.changes) in the log, \(s.pending) made here not yet synced")
            print("conflicts   \(s.conflicts)\(s.conflicts > 0 ? " - 'navette conflicts' lists them" : "")")
            if s.erasedRecords > 0 { print("erased      \(s.erasedRecords) records") }
            print("last sync   never (this node is standalone)")
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
