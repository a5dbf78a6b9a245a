import ArgumentParser
import NavetteCore
import NavetteStore

extension Navette {
    struct Conflicts: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List fields edited concurrently on two laptops, and resolve them.",
            discussion: """
                A conflict keeps every concurrent value; the one shown meanwhile is the latest. Resolving
                writes the chosen value as a new edit that saw them all, on every laptop after sync.
                """,
            subcommands: [List.self, Resolve.self], defaultSubcommand: List.self)
    }
}

extension Navette.Conflicts {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the conflicts (the default).")
        @OptionGroup var node: NodeOptions
        @Flag(help: "Print JSON lines, with value ids.") var json = false

        func run() throws {
            let conflicts = try node.open().conflicts()
            if json {
                for c in conflicts {
                    var o: [String: JSONValue] = [
                        "collection": .string(c.record.collection), "record": .string(c.record.id),
                        "field": .string(c.field),
                        "values": .array(([c.current] + c.others).map(Self.json)),
                    ]
                    if let k = c.key { o["key"] = .string(k) }
                    print(JSONValue.object(o).canonicalString)
                }
                return
            }
            if conflicts.isEmpty {
                print("No conflicts.")
                return
            }
            for c in conflicts {
                print("\(c.record) \(c.field)\(c.key.map { "[\($0)]" } ?? "")")
                for (i, v) in ([c.current] + c.others).enumerated() {
                    let mark = i == 0 ? "shown  " : "       "
                    print("  \(mark)\(v.id)  \(Output.time(v.time))  by node \(v.id.origin)  \(Output.text(v.value))")
                }
            }
            print("Resolve one with: navette conflicts resolve COLLECTION ID FIELD [--key KEY] --choose VALUE_ID")
        }

        static func json(_ v: ValueRef) -> JSONValue {
            ["id": .string(v.id.description), "time": .string(v.time.description), "value": v.value]
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve a conflict by choosing one of its values, or writing a new one.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The collection, such as seeker.") var collection: String
        @Argument(help: "The record's id.") var id: String
        @Argument(help: "The field, such as contact.phone.") var field: String
        @Option(help: "The map entry, for a conflict inside a map.") var key: String?
        @Option(help: "The id of the value to keep, as 'navette conflicts' shows it.") var choose: String?
        @Option(help: "A new value to write instead (FIELD=VALUE syntax rules).") var value: String?

        func validate() throws {
            guard (choose == nil) != (value == nil) else {
                throw ArgumentParser.ValidationError("give exactly one of '--choose VALUE_ID' or '--value VALUE'.")
            }
        }

        func run() throws {
            let store = try node.open()
            try refusing {
                let conflict = try store.conflicts().first {
                    $0.record == RecordRef(collection, id) && $0.field == field && $0.key == key
                }
                guard let conflict else {
                    throw CLIError("\(collection)/\(id) \(field)\(key.map { "[\($0)]" } ?? "") has no conflict; 'navette conflicts' lists them")
                }
                let chosen: JSONValue
                if let choose {
                    guard let v = ([conflict.current] + conflict.others).first(where: { $0.id.description == choose }) else {
                        throw CLIError("'\(choose)' is not one of the conflicting value ids; 'navette conflicts' shows them")
                    }
                    chosen = v.value
                } else {
                    let spec = store.configuration.schema.collection(collection)!
                    let lhs = key.map { "\(field)[\($0)]" } ?? field
                    let edit: Edit
                    do {
                        edit = try FieldAssignment("\(lhs)=\(value!)").edit(in: spec, state: RecordState())
                    } catch let e as FieldAssignment.Failure {
                        throw CLIError(e.description)
                    }
                    switch edit {
                    case .set(_, let v), .put(_, _, let v): chosen = v
                    default: throw CLIError("this conflict needs a value")
                    }
                }
                let edit: Edit = key.map { .put(field, key: $0, chosen) } ?? .set(field, chosen)
                try store.edit(collection, id, [edit])
            }
            print("Resolved \(collection)/\(id) \(field)\(key.map { "[\($0)]" } ?? "")")
        }
    }
}
