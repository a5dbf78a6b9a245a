import NavetteCore

/// A deterministic agency dataset at the sizes of `DOMAIN.md`: reference
/// data, seeker files written by their referents' laptops, the workshop
/// catalogue, sessions and registrations — as the changes that made them.
///
/// The same seed and sizes give the same changes, byte for byte: the
/// generator draws only from ``SplitMix64``, never iterates a `Set` or
/// `Dictionary` to decide anything, and reads no clock (time starts at
/// 2026-01-05T08:00Z and advances by drawn steps).
///
/// ```swift
/// let changes = AgencyDataset.generate(seed: 7, sizes: .init(seekers: 100))
/// let lines = changes.map(\.encoded)   // NDJSON, as `navette-datagen` writes
/// ```
public enum AgencyDataset {
    /// How much to generate. The defaults are one agency of `DOMAIN.md`.
    public struct Sizes: Hashable, Sendable {
        public var seekers: Int
        public var counsellors: Int
        public var workshops: Int
        public var sessions: Int
        public var registrations: Int

        public init(
            seekers: Int = 7_000, counsellors: Int = 40, workshops: Int = 24, sessions: Int = 370,
            registrations: Int = 4_400
        ) {
            self.seekers = seekers
            self.counsellors = counsellors
            self.workshops = workshops
            self.sessions = sessions
            self.registrations = registrations
        }

        /// Sizes scaled down from an agency's in proportion to `seekers`.
        public static func scaled(seekers: Int) -> Sizes {
            let f = Double(seekers) / 7_000
            return Sizes(
                seekers: seekers, counsellors: max(2, Int(40 * f)), workshops: max(2, Int(24 * f)),
                sessions: max(2, Int(370 * f)), registrations: max(2, Int(4_400 * f)))
        }
    }

    /// The agency code every generated record belongs to.
    public static let agency = "069-lyon-3"

    static let firstNames = [
        "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Emma", "Louise", "Jade", "Zoé", "Lucas", "Hugo",
        "Nathan", "Enzo", "Louis", "Gabriel", "Mathis", "Théo", "Raphaël", "Noah", "Yasmine", "Amina", "Fatou",
        "Karim", "Mehdi", "Nicolas", "Sophie", "Isabelle", "Éloïse", "Jérôme",
    ]
    static let lastNames = [
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
        "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
        "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Benali",
    ]

    /// Generates the dataset's changes, in the order they were made.
    public static func generate(seed: UInt64, sizes: Sizes = Sizes()) -> [Change] {
        var g = Generator(seed: seed)
        return g.run(sizes)
    }

    struct Generator {
        var rng: SplitMix64
        var wall: UInt64 = 1_767_600_000_000  // 2026-01-05T08:00:00Z
        var editors: [LocalEditor] = []
        var states: [String: RecordState] = [:]
        var out: [Change] = []
        let values = RandomValues()

        init(seed: UInt64) { rng = SplitMix64(seed: seed) }

        mutating func edit(_ node: Int, _ collection: String, _ id: String, _ edit: Edit) {
            wall += UInt64(rng.int(in: 1_000...30_000))
            let key = collection + "/" + id
            var s = states[key] ?? RecordState()
            let change = try! editors[node].change(
                for: edit, collection: collection, record: id, state: s, wallMillis: wall)
            s.apply(change)
            states[key] = s
            out.append(change)
        }

        mutating func uuid() -> String { RecordKeys.random(using: &rng) }

        mutating func run(_ sizes: Sizes) -> [Change] {
            // Node 0 is the server; nodes 1… are the counsellors' laptops.
            for _ in 0...sizes.counsellors { editors.append(LocalEditor(node: NodeID.random(using: &rng))) }
            edit(0, "agency", AgencyDataset.agency, .set("name", "Agence Lyon 3 Part-Dieu"))
            edit(0, "agency", AgencyDataset.agency, .set("departement", "69"))
            edit(0, "agency", AgencyDataset.agency, .set("timeZone", "Europe/Paris"))
            var counsellors: [String] = []
            for i in 1...sizes.counsellors {
                let id = "c\(i)"
                counsellors.append(id)
                edit(0, "counsellor", id, .set("firstName", .string(rng.pick(AgencyDataset.firstNames))))
                edit(0, "counsellor", id, .set("lastName", .string(rng.pick(AgencyDataset.lastNames))))
                edit(0, "counsellor", id, .set("agency", .string(AgencyDataset.agency)))
                edit(0, "counsellor", id, .add("roles", element: i % 5 == 0 ? "facilitator" : "counsellor"))
            }
            var seekers: [String] = []
            for _ in 0..<sizes.seekers {
                let referent = rng.int(in: 1...sizes.counsellors)
                let id = uuid()
                seekers.append(id)
                seeker(id, node: referent, referent: counsellors[referent - 1])
            }
            var workshops: [String] = []
            for _ in 0..<sizes.workshops {
                let id = uuid()
                workshops.append(id)
                let node = rng.int(in: 1...sizes.counsellors)
                edit(node, "workshop", id, .set("title", values.value(.string(maxLength: 60), &rng)))
                edit(node, "workshop", id, .set("description", values.value(.string(maxLength: 400), &rng)))
                edit(node, "workshop", id, .set("kind", .string(rng.pick(["workshop", "informationSession", "recruitment"]))))
                edit(node, "workshop", id, .set("theme", .string(rng.pick(["jobSearch", "digitalSkills", "careerProject", "skills"]))))
                edit(node, "workshop", id, .add("targetRomeCodes", element: rng.pick(Rome.jobs).code))
                edit(node, "workshop", id, .set("defaultCapacity", .int(Int64(rng.int(in: 8...15)))))
                edit(node, "workshop", id, .set("defaultDurationMinutes", .int(Int64(rng.pick([90, 120, 180])))))
                edit(node, "workshop", id, .set("agency", .string(AgencyDataset.agency)))
            }
            var sessions: [(id: String, node: Int)] = []
            for _ in 0..<sizes.sessions {
                let id = uuid()
                let node = rng.int(in: 1...sizes.counsellors)
                sessions.append((id, node))
                let start = values.value(.dateTime, &rng)
                edit(node, "workshopSession", id, .set("workshop", .string(rng.pick(workshops))))
                edit(node, "workshopSession", id, .set("agency", .string(AgencyDataset.agency)))
                edit(node, "workshopSession", id, .set("start", start))
                edit(node, "workshopSession", id, .set("capacity", .int(Int64(rng.int(in: 8...15)))))
                edit(node, "workshopSession", id, .set("location", ["kind": "room", "detail": "Salle 2"]))
                edit(node, "workshopSession", id, .add("facilitators", element: counsellors[node - 1]))
            }
            for _ in 0..<sizes.registrations {
                let session = rng.pick(sessions)
                let seeker = rng.pick(seekers)
                let id = RecordKeys.registration(session: session.id, seeker: seeker)
                if states["registration/" + id] != nil { continue }
                let at = values.value(.dateTime, &rng)
                edit(session.node, "registration", id, .set("session", .string(session.id)))
                edit(session.node, "registration", id, .set("seeker", .string(seeker)))
                edit(session.node, "registration", id, .set("agency", .string(AgencyDataset.agency)))
                edit(session.node, "registration", id, .set("status", "registered"))
                edit(session.node, "registration", id, .set("registered", ["at": at]))
                if rng.chance(0.7) {
                    edit(session.node, "registration", id, .set("attendance", .string(rng.pick(["present", "absent", "excused"]))))
                }
            }
            return out
        }

        /// A seeker file of 2–3 KB, as a referent writes it at the first interview.
        mutating func seeker(_ id: String, node: Int, referent: String) {
            let first = rng.pick(AgencyDataset.firstNames)
            let last = rng.pick(AgencyDataset.lastNames)
            edit(node, "seeker", id, .set("identity.firstName", .string(first)))
            edit(node, "seeker", id, .set("identity.lastName", .string(last)))
            edit(node, "seeker", id, .set("identity.birthDate", values.value(.date, &rng)))
            edit(node, "seeker", id, .set("identity.gender", .string(rng.pick(["female", "male", "unspecified"]))))
            let mail = RandomValues.ascii(first + "." + last).lowercased() + "\(rng.int(in: 1...99))@example.org"
            edit(node, "seeker", id, .set("contact.email", .string(mail)))
            edit(node, "seeker", id, .set("contact.phone", .string("06 \(rng.int(in: 10...99)) \(rng.int(in: 10...99)) \(rng.int(in: 10...99)) \(rng.int(in: 10...99))")))
            edit(node, "seeker", id, .set("agency", .string(AgencyDataset.agency)))
            edit(node, "seeker", id, .set("referent", .string(referent)))
            edit(node, "seeker", id, .set("situation.category", .string(rng.pick(["A", "A", "A", "B", "C"]))))
            edit(node, "seeker", id, .set("situation.modality", .string(rng.pick(["suivi", "guide", "renforce"]))))
            edit(node, "seeker", id, .set("situation.status", "active"))
            let job = rng.pick(Rome.jobs)
            edit(node, "seeker", id, .put("targetJobs", key: .init(job.code), ["priority": 1]))
            for _ in 0..<rng.int(in: 15...30) {
                edit(node, "seeker", id, .put("skills", key: RandomValues.skillKey(&rng), values.value(FieldSpec.skillEntry, &rng)))
            }
            for _ in 0..<rng.int(in: 2...5) {
                edit(node, "seeker", id, .put("softSkills", key: rng.pick(Rome.softSkills).key, ["level": .int(Int64(rng.int(in: 1...4)))]))
            }
            edit(node, "seeker", id, .put("consents", key: "smsReminders", true))
            edit(node, "seeker", id, .set("notes", values.value(.string(maxLength: 600), &rng)))
            for _ in 0..<rng.int(in: 0...3) {
                edit(node, "seeker", id, .append("interactions", ["at": values.value(.dateTime, &rng), "type": "call", "by": .string(referent)]))
            }
        }
    }
}

extension RandomValues {
    /// `s` with accents removed and anything but letters dropped.
    static func ascii(_ s: String) -> String {
        let map: [Character: String] = ["é": "e", "è": "e", "ë": "e", "ï": "i", "ç": "c", "à": "a", "É": "E"]
        return s.map { map[$0] ?? (($0.isASCII && ($0.isLetter || $0 == ".")) ? String($0) : "") }.joined()
    }
}

extension FieldSpec {
    static let skillEntry = Schema.navette.field("seeker", "skills")!.type
}
