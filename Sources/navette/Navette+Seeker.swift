import ArgumentParser
import NavetteCore
import NavetteStore

extension Navette {
    struct SeekerCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seeker", abstract: "Create, edit, find and erase job-seeker files.",
            subcommands: [Add.self, Set.self, Show.self, List.self, Match.self, Erase.self, RequestErasure.self])
    }
}

/// Reads FIELD=VALUE arguments into edits of one record.
func edits(_ assignments: [String], collection: String, state: RecordState) throws -> [Edit] {
    let spec = Schema.navette.collection(collection)!
    var out: [Edit] = []
    for a in assignments {
        let edit: Edit
        do {
            edit = try FieldAssignment(a).edit(in: spec, state: state, earlier: out)
        } catch let e as FieldAssignment.Failure {
            throw CLIError(e.description)
        }
        // A later edit of the same map entry carries the earlier one's members:
        // it replaces it, so that an entry is validated whole.
        if case .put(let f, let k, _) = edit {
            out.removeAll { if case .put(f, k, _) = $0 { true } else { false } }
        }
        out.append(edit)
    }
    return out
}

extension Navette.SeekerCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a seeker file.",
            discussion: """
                The file gets the node's agency, and its counsellor as referent, unless FIELD=VALUE says otherwise.
                Prints the new id on its last line. 'navette schema seeker' lists the fields.
                """)

        @OptionGroup var node: NodeOptions
        @Option(name: .customLong("first-name"), help: "First name.") var firstName: String
        @Option(name: .customLong("last-name"), help: "Last name.") var lastName: String
        @Argument(help: ArgumentHelp("More fields, such as contact.phone=0612345678.", valueName: "field=value"))
        var fields: [String] = []

        func run() throws {
            let store = try node.open()
            let id = try refusing {
                var all: [Edit] = [
                    .set("identity.firstName", .string(firstName)), .set("identity.lastName", .string(lastName)),
                    .set("agency", .string(store.identity.agency)), .set("situation.status", "active"),
                ]
                if let c = store.identity.counsellor { all.append(.set("referent", .string(c))) }
                all += try edits(fields, collection: "seeker", state: RecordState())
                return try store.createRecord("seeker", all)
            }
            print("Created seeker file")
            print(id)
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change fields of a seeker file.",
            discussion: """
                field=value sets, field= clears, field+=v / field-=v add to or remove from a set (or a counter),
                field[key]=value and field[key].member=value edit a map entry, field-=key removes it.
                Examples: contact.phone=0612345678  situation.flags+=rsa  skills[ROME:347:100381].level=3
                """)

        @OptionGroup var node: NodeOptions
        @Argument(help: "The seeker's id.") var id: String
        @Argument(help: ArgumentHelp("Fields to change.", valueName: "field=value")) var fields: [String]

        func run() throws {
            let store = try node.open()
            let count = try refusing {
                guard let state = try store.state("seeker", id), !state.isErased, !state.isDeleted else {
                    throw CLIError("no seeker has the id \(id); 'navette seeker list' shows them")
                }
                return try store.edit("seeker", id, try edits(fields, collection: "seeker", state: state)).count
            }
            print("Saved \(count) change\(count == 1 ? "" : "s") to seeker \(id)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a seeker file, with any conflicts.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The seeker's id.") var id: String
        @Flag(help: "Print the record as canonical JSON, with value ids.") var json = false

        func run() throws {
            let store = try node.open()
            try showRecord(store, "seeker", id, json: json)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List seeker files, optionally filtered.")
        @OptionGroup var node: NodeOptions
        @Option(help: "Only this referent's seekers.") var referent: String?
        @Option(help: "Only seekers with this status (active, onHold, archived).") var status: String?
        @Option(help: "Only this agency's seekers.") var agency: String?
        @Option(help: "Seekers whose name contains this (case and accents ignored).") var name: String?
        @Flag(help: "Print JSON lines instead of a table.") var json = false

        func run() throws {
            let store = try node.open()
            let rows = try store.list(
                "seeker", filter: ListFilter(agency: agency, referent: referent, status: status, name: name))
            printList(rows, columns: ["identity.lastName", "identity.firstName", "situation.status", "referent"], json: json)
        }
    }

    struct Match: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find seekers who hold enough of the skills a ROME job demands.",
            discussion: "Uses the embedded ROME v3 subset (release 347); 'navette schema rome' lists its codes.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "A ROME code, such as K2204.") var romeCode: String
        @Option(name: .customLong("min-percent"), help: "The least share of the job's skills, in percent.")
        var minPercent: Int = 50

        func validate() throws {
            guard (1...100).contains(minPercent) else {
                throw ArgumentParser.ValidationError("'--min-percent' must be between 1 and 100, not \(minPercent).")
            }
        }

        func run() throws {
            guard Rome.isValidCode(romeCode) else {
                throw CLIError("'\(romeCode)' is not a ROME code (a letter and four digits, such as K2204)")
            }
            guard let job = Rome.job(romeCode) else {
                throw CLIError("\(romeCode) is not in the embedded ROME subset; 'navette schema rome' lists the codes")
            }
            let store = try node.open()
            let matches = try store.match(romeCode: romeCode, minimumPercent: minPercent)
            print("\(job.code) \(job.label): \(job.skills.count) skills; \(matches.count) seeker\(matches.count == 1 ? "" : "s") hold at least \(minPercent) %")
            if matches.isEmpty { return }
            let names = Dictionary(
                uniqueKeysWithValues: try store.list("seeker").map { ($0.id, $0) })
            Output.table(
                ["id", "skills", "name"],
                matches.map { m in
                    let s = names[m.seeker]?.fields
                    let name = [s?["identity.lastName"], s?["identity.firstName"]].compactMap { $0?.stringValue }
                    return [m.seeker, "\(m.matched)/\(m.required) (\(m.percent) %)", name.joined(separator: " ")]
                })
        }
    }

    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a seeker and their registrations from this node, for good.",
            discussion: """
                The values leave every table and file of the node; the change log keeps only ids and times.
                Changes for the seeker that arrive later are dropped.
                """)
        @OptionGroup var node: NodeOptions
        @Argument(help: "The seeker's id.") var id: String

        func run() throws {
            let store = try node.open()
            if try store.meta("sync.server") != nil {
                throw CLIError(
                    "on an enrolled laptop erasure is an administrator's operation: 'navette seeker request-erasure \(id)' flags the request for them")
            }
            let erased = try refusing { try store.eraseSeeker(id) }
            print("Erased seeker \(id) and \(erased.count - 1) registration\(erased.count == 2 ? "" : "s")")
        }
    }
}

extension Navette.SeekerCommand {
    struct RequestErasure: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "request-erasure",
            abstract: "Flag a seeker's request to be erased, for the administrator (after the next sync).")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The seeker's id.") var id: String

        func run() throws {
            let store = try node.open()
            try refusing {
                _ = try existing(store, "seeker", id, hint: "no seeker has the id \(id); 'navette seeker list' shows them")
                try store.edit("seeker", id, [.set("erasureRequested", true)])
            }
            print("Erasure requested for seeker \(id); an administrator carries it out after your next sync")
        }
    }
}

/// Prints one record, as text or canonical JSON.
func showRecord(_ store: RecordStore, _ collection: String, _ id: String, json: Bool) throws {
    guard let spec = store.configuration.schema.collection(collection), let state = try store.state(collection, id)
    else {
        throw CLIError("no \(collection) has the id \(id); 'navette \(collection == "seeker" ? "seeker" : "workshop") list' shows them")
    }
    if json {
        print(CanonicalExport.record(collection: collection, id: id, state: state, schema: store.configuration.schema).canonicalString)
    } else {
        print(Output.record(spec, id, state))
    }
}

/// Prints a list as a table or JSON lines.
func printList(_ rows: [RecordSummary], columns: [String], json: Bool) {
    if json {
        for r in rows {
            print(JSONValue.object(["id": .string(r.id), "collection": .string(r.collection), "fields": .object(r.fields)]).canonicalString)
        }
        return
    }
    if rows.isEmpty {
        print("(none)")
        return
    }
    Output.table(["id"] + columns, rows.map { r in [r.id] + columns.map { r.fields[$0].map(Output.text) ?? "" } })
}
