import ArgumentParser
import NavetteCore
import NavetteStore

extension Navette {
    struct WorkshopCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "workshop",
            abstract: "The workshop catalogue, sessions, registrations and attendance.",
            subcommands: [
                Add.self, Show.self, List.self, SessionCommand.self, Register.self, Unregister.self, Attend.self,
            ])
    }
}

extension Navette.WorkshopCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a workshop to the catalogue.",
            discussion: "Prints the new id on its last line. 'navette schema workshop' lists the fields.")
        @OptionGroup var node: NodeOptions
        @Option(help: "The title (at most 250 characters).") var title: String
        @Flag(help: "Put it in the national catalogue rather than the node's agency's.") var national = false
        @Argument(help: ArgumentHelp("More fields, such as defaultCapacity=12.", valueName: "field=value"))
        var fields: [String] = []

        func run() throws {
            let store = try node.open()
            let id = try refusing {
                var all: [Edit] = [.set("title", .string(title))]
                if !national { all.append(.set("agency", .string(store.identity.agency))) }
                all += try edits(fields, collection: "workshop", state: RecordState())
                return try store.createRecord("workshop", all)
            }
            print("Created workshop")
            print(id)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a workshop of the catalogue.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The workshop's id.") var id: String
        @Flag(help: "Print canonical JSON.") var json = false
        func run() throws { try showRecord(try node.open(), "workshop", id, json: json) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the workshop catalogue.")
        @OptionGroup var node: NodeOptions
        @Flag(help: "Print JSON lines.") var json = false
        func run() throws {
            printList(try node.open().list("workshop"), columns: ["title", "kind", "agency"], json: json)
        }
    }

    struct SessionCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "session", abstract: "Dated sessions of a workshop.",
            subcommands: [SessionAdd.self, SessionSet.self, SessionCancel.self, SessionShow.self, SessionList.self, Roster.self])
    }

    struct SessionAdd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Plan a session of a workshop.",
            discussion: "Prints the new id on its last line.")
        @OptionGroup var node: NodeOptions
        @Option(help: "The workshop's id.") var workshop: String
        @Option(help: "Start, with its UTC offset, such as 2026-03-02T09:30+01:00.") var start: String
        @Option(help: "Seats (default: the workshop's default capacity, else 12).") var capacity: Int?
        @Argument(help: ArgumentHelp("More fields, such as end=2026-03-02T11:30+01:00.", valueName: "field=value"))
        var fields: [String] = []

        func run() throws {
            let store = try node.open()
            let id = try refusing {
                guard let w = try store.state("workshop", workshop), !w.isErased, !w.isDeleted else {
                    throw CLIError("no workshop has the id \(workshop); 'navette workshop list' shows them")
                }
                var seats = capacity.map(Int64.init)
                if seats == nil, case .register(let c?, _) = w.view(of: Schema.navette.field("workshop", "defaultCapacity")!) {
                    seats = c.value.intValue
                }
                var all: [Edit] = [
                    .set("workshop", .string(workshop)), .set("agency", .string(store.identity.agency)),
                    .set("start", .string(start)), .set("capacity", .int(seats ?? 12)),
                ]
                if let c = store.identity.counsellor { all.append(.add("facilitators", element: c)) }
                all += try edits(fields, collection: "workshopSession", state: RecordState())
                return try store.createRecord("workshopSession", all)
            }
            print("Planned session")
            print(id)
        }
    }

    struct SessionSet: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change fields of a session.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The session's id.") var id: String
        @Argument(help: ArgumentHelp("Fields to change.", valueName: "field=value")) var fields: [String]
        func run() throws {
            let store = try node.open()
            let n = try refusing {
                let state = try existing(store, "workshopSession", id)
                return try store.edit("workshopSession", id, try edits(fields, collection: "workshopSession", state: state)).count
            }
            print("Saved \(n) change\(n == 1 ? "" : "s") to session \(id)")
        }
    }

    struct SessionCancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel", abstract: "Cancel a session (a cancellation wins over concurrent edits).")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The session's id.") var id: String
        func run() throws {
            let store = try node.open()
            try refusing {
                _ = try existing(store, "workshopSession", id)
                try store.edit("workshopSession", id, [.set("cancelled", true)])
            }
            print("Cancelled session \(id)")
        }
    }

    struct SessionShow: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a session.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The session's id.") var id: String
        @Flag(help: "Print canonical JSON.") var json = false
        func run() throws { try showRecord(try node.open(), "workshopSession", id, json: json) }
    }

    struct SessionList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List sessions.")
        @OptionGroup var node: NodeOptions
        @Flag(help: "Print JSON lines.") var json = false
        func run() throws {
            printList(try node.open().list("workshopSession"), columns: ["start", "workshop", "agency"], json: json)
        }
    }

    struct Roster: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show who has a seat and who waits, the same on every laptop.",
            discussion: "Seats go to the earliest registrations (time, then laptop); overbooking is shown, not refused.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The session's id.") var id: String
        func run() throws {
            let store = try node.open()
            guard let roster = try store.roster(session: id) else {
                throw CLIError("no session has the id \(id); 'navette workshop session list' shows them")
            }
            let w = roster.waitlist
            print("capacity \(roster.capacity): \(w.confirmed.count) confirmed, \(w.waitlisted.count) waitlisted")
            let seekers = try registrationSeekers(store, w.confirmed + w.waitlisted)
            for (i, r) in w.confirmed.enumerated() { print("  seat \(i + 1)  \(seekers[r] ?? r)") }
            for (i, r) in w.waitlisted.enumerated() { print("  wait \(i + 1)  \(seekers[r] ?? r)") }
        }
    }

    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a seeker to a session.",
            discussion: "Two laptops registering the same seeker offline make one registration.")
        @OptionGroup var node: NodeOptions
        @Option(help: "The session's id.") var session: String
        @Option(help: "The seeker's id.") var seeker: String
        @Option(help: "How the seeker registered: counsellor, online, phone, walkIn.") var channel = "counsellor"
        func run() throws {
            let store = try node.open()
            let id = RecordKeys.registration(session: session, seeker: seeker)
            try refusing {
                _ = try existing(store, "workshopSession", session)
                _ = try existing(store, "seeker", seeker)
                let state = try store.state("registration", id) ?? RecordState()
                var all: [Edit] = [
                    .set("session", .string(session)), .set("seeker", .string(seeker)),
                    .set("agency", .string(store.identity.agency)), .set("status", "registered"),
                    .set("channel", .string(channel)),
                ]
                if case .writeOnce(nil) = state.view(of: Schema.navette.field("registration", "registered")!) {
                    var by: [String: JSONValue] = ["at": .string(isoNow())]
                    if let c = store.identity.counsellor { by["by"] = .string(c) }
                    all.append(.set("registered", .object(by)))
                }
                try store.edit("registration", id, all)
            }
            print("Registered")
            print(id)
        }
    }

    struct Unregister: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a seeker's registration to a session.")
        @OptionGroup var node: NodeOptions
        @Option(help: "The session's id.") var session: String
        @Option(help: "The seeker's id.") var seeker: String
        func run() throws {
            let store = try node.open()
            let id = RecordKeys.registration(session: session, seeker: seeker)
            try refusing {
                _ = try existing(store, "registration", id, hint: "this seeker is not registered to this session")
                try store.edit("registration", id, [.set("status", "cancelled")])
            }
            print("Cancelled registration \(id)")
        }
    }

    struct Attend: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a registered seeker's attendance.")
        @OptionGroup var node: NodeOptions
        @Option(help: "The session's id.") var session: String
        @Option(help: "The seeker's id.") var seeker: String
        @Option(help: "present, absent, excused or unknown.") var attendance: String
        func run() throws {
            let store = try node.open()
            let id = RecordKeys.registration(session: session, seeker: seeker)
            try refusing {
                _ = try existing(store, "registration", id, hint: "this seeker is not registered to this session")
                try store.edit("registration", id, [.set("attendance", .string(attendance))])
            }
            print("Recorded attendance for registration \(id)")
        }
    }
}

/// The state of a live record, or an error saying how to find one.
func existing(_ store: RecordStore, _ collection: String, _ id: String, hint: String? = nil) throws -> RecordState {
    guard let s = try store.state(collection, id), !s.isErased, !s.isDeleted else {
        throw CLIError(hint ?? "no \(collection) has the id \(id)")
    }
    return s
}

/// Seekers' names by registration id, for rosters.
func registrationSeekers(_ store: RecordStore, _ registrations: [String]) throws -> [String: String] {
    var out: [String: String] = [:]
    let names = Dictionary(uniqueKeysWithValues: try store.list("seeker").map { ($0.id, $0.fields) })
    for r in registrations {
        guard let s = try store.state("registration", r),
            case .register(let seeker?, _) = s.view(of: Schema.navette.field("registration", "seeker")!),
            let id = seeker.value.stringValue
        else { continue }
        let f = names[id]
        out[r] = [f?["identity.lastName"]?.stringValue, f?["identity.firstName"]?.stringValue, "(\(id))"]
            .compactMap { $0 }.joined(separator: " ")
    }
    return out
}
