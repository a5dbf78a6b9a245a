import Foundation
import NavetteCore
import NavetteStore

/// Text renderings shared by the commands.
enum Output {
    /// A value for people: strings as they are, anything else as JSON.
    static func text(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return v.canonicalString
    }

    /// A record's fields, one per line, in schema order.
    static func record(_ spec: CollectionSpec, _ id: String, _ state: RecordState) -> String {
        var lines = ["\(spec.name) \(id)"]
        if state.isErased { return lines[0] + " (erased)" }
        if state.isDeleted { lines[0] += " (deleted)" }
        let width = spec.fields.map(\.name.count).max() ?? 20
        func line(_ name: String, _ value: String) {
            lines.append("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
        for field in spec.fields {
            let view = state.view(of: field)
            if view.isEmpty || (field.kind == .counter && view == .counter(0) && !state.fieldNames.contains(field.name)) {
                continue
            }
            switch view {
            case .register(let c?, let others):
                line(field.name, text(c.value) + conflictNote(others.count))
            case .writeOnce(let c?): line(field.name, text(c.value))
            case .counter(let n): line(field.name, String(n))
            case .flag(let b?): line(field.name, b ? "yes" : "no")
            case .set(let elements): line(field.name, elements.joined(separator: ", "))
            case .map(let entries):
                line(field.name, "\(entries.count) entr\(entries.count == 1 ? "y" : "ies")")
                for k in entries.keys.sorted(by: JSONValue.utf8Less) {
                    switch entries[k]! {
                    case .register(let c?, let others): line("  [\(k)]", text(c.value) + conflictNote(others.count))
                    case .flag(let b?): line("  [\(k)]", b ? "yes" : "no")
                    default: break
                    }
                }
            case .log(let entries):
                line(field.name, "\(entries.count) entr\(entries.count == 1 ? "y" : "ies")")
                for e in entries {
                    line("  " + time(e.entry?.time), e.entry.map { text($0.value) } ?? "[redacted]")
                }
            default: break
            }
        }
        for name in state.fieldNames where spec.field(name) == nil {
            line(name, "(a field of a newer version, kept and relayed)")
        }
        return lines.joined(separator: "\n")
    }

    static func conflictNote(_ n: Int) -> String {
        n == 0 ? "" : "   ! \(n) concurrent value\(n == 1 ? "" : "s") - see 'navette conflicts'"
    }

    /// An HLC time as a UTC date and time, for people.
    static func time(_ t: Timestamp?) -> String {
        guard let t else { return "-" }
        let date = Date(timeIntervalSince1970: Double(t.wallMillis) / 1000)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// Prints a table with left-aligned columns.
    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        print(render(header))
        for r in rows { print(render(r)) }
    }
}
