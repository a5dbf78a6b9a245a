import Foundation
import GRDB
import NavetteCore

/// Keeps `record_index` in step with record states: the columns lists and
/// filters read, and a summary of each live record.
enum RecordIndexer {
    /// The number of conflicting values the record shows: the sum of
    /// ``FieldView/conflictCount`` over its fields that show conflicts, in
    /// one pass over its slots, without building their views.
    static func conflictCount(_ s: RecordState, _ collection: String, _ schema: Schema) -> Int {
        guard let spec = schema.collection(collection), !s.isErased else { return 0 }
        return s.slots.reduce(0) { $0 + conflicts($1.key, $1.value, spec) }
    }

    /// The conflicting values one slot shows (`nil`: no such slot).
    static func conflicts(_ key: SlotKey, _ slot: SlotState?, _ spec: CollectionSpec) -> Int {
        guard let slot, slot.values.count > 1, let f = spec.field(key.field), f.showsConflicts else { return 0 }
        // A register is its field's unkeyed slot; a map's entries are keyed.
        guard (key.key == nil) == (f.kind != .awMap) else { return 0 }
        let live = slot.values.values.reduce(0) { $0 + ($1.isTombstone ? 0 : 1) }
        return max(0, live - 1)
    }

    /// Every field the index row, the links and the agency of a record of
    /// `collection` read (``indexRow(_:_:_:)``, ``RecordLinks/links(of:_:_:)``,
    /// ``agency(of:_:_:)``): a write reads these slots of a record, and may
    /// leave the others unread.
    static func fieldsRead(_ collection: String, _ schema: Schema) -> [String] {
        var fields = ["agency", "referent", "seeker", "session"] + statusFields + lastNameFields + firstNameFields
        fields += ["followers", "facilitators"]
        fields += schema.collection(collection)?.summaryFields ?? []
        return fields
    }

    static let statusFields = ["situation.status", "status"]
    static let lastNameFields = ["identity.lastName", "lastName", "title", "name"]
    static let firstNameFields = ["identity.firstName", "firstName"]

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
    static func updateLinks(_ statements: SessionStatements, _ ref: RecordRef, _ s: RecordState, _ schema: Schema) throws {
        let delete = try statements(.deleteLinks)
        delete.bind(1, ref.collection)
        delete.bind(2, ref.id)
        try delete.run()
        let insert = try statements(.insertLink)
        for (role, value) in RecordLinks.links(of: ref, s, schema) {
            insert.bind(1, ref.collection)
            insert.bind(2, ref.id)
            insert.bind(3, role)
            insert.bind(4, value)
            try insert.run()
        }
    }

    /// A record's `record_index` row: what lists and filters read.
    struct IndexRow: Equatable {
        /// `name` is the name as written: folded (``foldForSearch(_:)``)
        /// only when the row is written.
        var agency, referent, status, seeker, session, name: String?
        var summary: String
    }

    /// The index row of a record in state `s`; `nil` when it has none
    /// (deleted, erased, or of a collection this version does not know).
    static func indexRow(_ ref: RecordRef, _ s: RecordState, _ schema: Schema) -> IndexRow? {
        guard let spec = schema.collection(ref.collection), !s.isErased, !s.isDeleted else { return nil }
        func text(_ names: [String]) -> String? {
            for n in names { if let v = simpleValue(s, spec, n)?.stringValue { return v } }
            return nil
        }
        var summary: [String: JSONValue] = [:]
        for name in spec.summaryFields { summary[name] = simpleValue(s, spec, name) }
        let nameParts = [text(lastNameFields), text(firstNameFields)].compactMap { $0 }
        return IndexRow(
            agency: text(["agency"]), referent: text(["referent"]), status: text(statusFields),
            seeker: text(["seeker"]), session: text(["session"]),
            name: nameParts.isEmpty ? nil : nameParts.joined(separator: " "),
            summary: JSONValue.object(summary).canonicalString)
    }

    /// Brings a record's index row and links in step with its state `s`.
    ///
    /// - Parameter before: the state they were last written for
    ///   (`.some(nil)`: none, the record is new); when known, only what
    ///   changed is written, so that an edit of a field no list reads
    ///   writes no index page. `nil`: unknown, everything is rewritten.
    static func update(
        _ statements: SessionStatements, _ ref: RecordRef, _ s: RecordState, before: RecordState??, _ schema: Schema
    ) throws {
        let row = indexRow(ref, s, schema)
        if case .some(let before) = before {
            let linksBefore = before.map { RecordLinks.links(of: ref, $0, schema) } ?? []
            if !linksBefore.elementsEqual(RecordLinks.links(of: ref, s, schema), by: { $0 == $1 }) {
                try updateLinks(statements, ref, s, schema)
            }
            if before.flatMap({ indexRow(ref, $0, schema) }) == row { return }
        } else {
            try updateLinks(statements, ref, s, schema)
        }
        guard let row else {
            let delete = try statements(.deleteIndexRow)
            delete.bind(1, ref.collection)
            delete.bind(2, ref.id)
            try delete.run()
            return
        }
        let upsert = try statements(.upsertIndexRow)
        upsert.bind(1, ref.collection)
        upsert.bind(2, ref.id)
        upsert.bind(3, row.agency)
        upsert.bind(4, row.referent)
        upsert.bind(5, row.status)
        upsert.bind(6, row.seeker)
        upsert.bind(7, row.session)
        upsert.bind(8, row.name.map(foldForSearch))
        upsert.bind(9, row.summary)
        try upsert.run()
    }

    /// Lowercases and strips accents, so "Éloïse" is found by "eloise".
    static func foldForSearch(_ s: String) -> String {
        // ASCII has no diacritics, and folds its case to lower case: done
        // here, without a trip through ICU (most names, most searches).
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self) }
        return s.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: posix)
    }

    private static let posix = Locale(identifier: "en_US_POSIX")
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
