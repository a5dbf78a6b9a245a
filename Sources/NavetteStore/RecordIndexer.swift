import Foundation
import GRDB
import NavetteCore

/// Keeps `record_index` in step with record states: the columns lists and
/// filters read, and a summary of each live record.
enum RecordIndexer {
    static func conflictCount(_ s: RecordState, _ collection: String, _ schema: Schema) -> Int {
        guard let spec = schema.collection(collection), !s.isErased else { return 0 }
        return s.fieldNames.reduce(0) { total, name in
            guard let f = spec.field(name), f.showsConflicts else { return total }
            return total + s.view(of: f).conflictCount
        }
    }

    /// The agency a record belongs to: its `agency` field, or, for an agency
    /// record, its own id. Kept for deleted records too, so that their
    /// changes still reach the agency's laptops.
    static func agency(of ref: RecordRef, _ s: RecordState, _ schema: Schema) -> String? {
        if ref.collection == "agency" { return ref.id }
        guard let spec = schema.collection(ref.collection) else { return nil }
        return simpleValue(s, spec, "agency")?.stringValue
    }

    /// The simple current value of a field: a register's winner or a flag.
    static func simpleValue(_ s: RecordState, _ spec: CollectionSpec, _ name: String) -> JSONValue? {
        guard let f = spec.field(name) else { return nil }
        switch s.view(of: f) {
        case .register(let c?, _): return c.value
        case .writeOnce(let c?): return c.value
        case .flag(let b?): return .bool(b)
        case .counter(let n): return .int(n)
        default: return nil
        }
    }

    /// Rewrites a record's links (see ``RecordLinks/links(of:_:_:)``).
    static func updateLinks(_ db: Database, _ ref: RecordRef, _ s: RecordState, _ schema: Schema) throws {
        try db.cachedStatement(sql: "DELETE FROM record_link WHERE collection = ? AND record = ?").execute(arguments: [ref.collection, ref.id])
        for (role, value) in RecordLinks.links(of: ref, s, schema) {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO record_link (collection, record, role, value) VALUES (?, ?, ?, ?)").execute(arguments: [ref.collection, ref.id, role, value])
        }
    }

    static func update(_ db: Database, _ ref: RecordRef, _ s: RecordState, _ schema: Schema) throws {
        try updateLinks(db, ref, s, schema)
        guard let spec = schema.collection(ref.collection), !s.isErased, !s.isDeleted else {
            try db.cachedStatement(sql: "DELETE FROM record_index WHERE collection = ? AND id = ?").execute(arguments: [ref.collection, ref.id])
            return
        }
        func text(_ names: String...) -> String? {
            for n in names { if let v = simpleValue(s, spec, n)?.stringValue { return v } }
            return nil
        }
        var summary: [String: JSONValue] = [:]
        for name in spec.summaryFields { summary[name] = simpleValue(s, spec, name) }
        let nameParts = [
            text("identity.lastName", "lastName", "title", "name"), text("identity.firstName", "firstName"),
        ].compactMap { $0 }
        try db.cachedStatement(sql: """
                INSERT INTO record_index (collection, id, agency, referent, status, seeker, session, name_key, summary)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (collection, id) DO UPDATE SET
                    agency = excluded.agency, referent = excluded.referent, status = excluded.status,
                    seeker = excluded.seeker, session = excluded.session, name_key = excluded.name_key,
                    summary = excluded.summary
                """).execute(arguments: [
                ref.collection, ref.id, text("agency"), text("referent"), text("situation.status", "status"),
                text("seeker"), text("session"),
                nameParts.isEmpty ? nil : foldForSearch(nameParts.joined(separator: " ")),
                JSONValue.object(summary).canonicalString,
            ])
    }

    /// Lowercases and strips accents, so "Éloïse" is found by "eloise".
    static func foldForSearch(_ s: String) -> String {
        s.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "en_US_POSIX"))
    }
}

/// What views are computed from, as any store indexes it: a record's agency
/// and its links to counsellors, sessions and seekers.
public enum RecordLinks {
    /// The agency a record belongs to: its `agency` field, or, for an
    /// agency record, its own id. Kept for deleted records too, so that
    /// their changes still reach the agency's laptops.
    public static func agency(of ref: RecordRef, _ s: RecordState, _ schema: Schema) -> String? {
        RecordIndexer.agency(of: ref, s, schema)
    }

    /// A record's links, as `(role, value)`: followers of a seeker (its
    /// referent and temporary followers), facilitators of a session, the
    /// session and seeker of a registration. An erased record has none.
    public static func links(of ref: RecordRef, _ s: RecordState, _ schema: Schema) -> [(role: String, value: String)] {
        guard !s.isErased, let spec = schema.collection(ref.collection) else { return [] }
        var links: [(String, String)] = []
        switch ref.collection {
        case "seeker":
            if let r = RecordIndexer.simpleValue(s, spec, "referent")?.stringValue { links.append(("follower", r)) }
            if let f = spec.field("followers"), case .set(let all) = s.view(of: f) { links += all.map { ("follower", $0) } }
        case "workshopSession":
            if let f = spec.field("facilitators"), case .set(let all) = s.view(of: f) { links += all.map { ("facilitator", $0) } }
        case "registration":
            if let v = RecordIndexer.simpleValue(s, spec, "session")?.stringValue { links.append(("session", v)) }
            if let v = RecordIndexer.simpleValue(s, spec, "seeker")?.stringValue { links.append(("seeker", v)) }
        default: break
        }
        var seen: Set<String> = []
        return links.filter { seen.insert("\($0.0)\u{0}\($0.1)").inserted }.map { (role: $0.0, value: $0.1) }
    }

    /// Everything views read of a record (its agency, its links, whether it
    /// is erased), as one string: two states with the same inputs are in the
    /// same views.
    static func viewInputs(of ref: RecordRef, _ s: RecordState, _ schema: Schema) -> String {
        let links = links(of: ref, s, schema).map { "\($0.role)=\($0.value)" }.sorted().joined(separator: ",")
        return "\(agency(of: ref, s, schema) ?? "-")|\(s.isErased)|\(links)"
    }

    /// Whether a write moves the view generation on: whether any record it
    /// changed now reads differently to views than it did when loaded.
    ///
    /// - Parameters:
    ///   - loaded: each record as the write loaded it (`.some(nil)`: it was
    ///     new). A record absent from it is unknown, so counts as changed.
    ///   - states: each changed record as the write leaves it.
    public static func viewsChanged(
        _ changed: some Sequence<RecordRef>, loaded: [RecordRef: RecordState?], states: [RecordRef: RecordState], _ schema: Schema
    ) -> Bool {
        changed.contains { ref in
            guard let before = loaded[ref], let after = states[ref] else { return true }
            return before.map { viewInputs(of: ref, $0, schema) } != viewInputs(of: ref, after, schema)
        }
    }

    /// Decodes a record state as a store keeps it (stored states may exceed
    /// the limits of a peer's message, so this parse has looser ones).
    public static func decodeStoredState(_ text: String) throws -> RecordState {
        try RecordStore.decodeState(text)
    }
}
