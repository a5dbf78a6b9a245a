import NavetteCore

/// Valid random values for any ``ValueType`` of the schema, drawn from a
/// seeded generator.
public struct RandomValues {
    /// Record ids that references may point to, by collection.
    public var pools: [String: [String]]

    public init(pools: [String: [String]] = [:]) { self.pools = pools }

    static let words = [
        "atelier", "entretien", "projet", "mobilite", "candidature", "formation", "relance", "bilan", "emploi",
        "competence", "objectif", "contrat", "visite", "appel", "dossier", "suivi", "logement", "permis",
    ]

    /// A valid value of `type`.
    public func value(_ type: ValueType, _ rng: inout SplitMix64) -> JSONValue {
        switch type {
        case .string(let maxLength):
            var s = ""
            for _ in 0..<rng.int(in: 1...4) { s += (s.isEmpty ? "" : " ") + rng.pick(Self.words) }
            return .string(String(s.prefix(maxLength)))
        case .int(let range):
            let lo = max(range.lowerBound, -1000)
            let hi = min(range.upperBound, 1000)
            return .int(Int64(rng.int(in: Int(lo)...Int(max(lo, hi)))))
        case .bool: return .bool(rng.chance(0.5))
        case .date: return .string(Self.date(&rng))
        case .dateTime:
            return .string("\(Self.date(&rng))T\(Self.two(rng.int(in: 8...18))):\(Self.two(rng.int(in: 0...59)))+01:00")
        case .oneOf(let options): return .string(rng.pick(options))
        case .reference(let collection):
            if let pool = pools[collection], !pool.isEmpty { return .string(rng.pick(pool)) }
            return .string(RecordKeys.random(using: &rng))
        case .romeCode: return .string(rng.pick(Rome.jobs).code)
        case .skillKey: return .string(Self.skillKey(&rng))
        case .object(let members):
            var o: [String: JSONValue] = [:]
            for m in members where m.isRequired || rng.chance(0.5) { o[m.name] = value(m.type, &rng) }
            return .object(o)
        case .list(let element, let maxCount):
            return .array((0..<rng.int(in: 0...min(2, maxCount))).map { _ in value(element, &rng) })
        }
    }

    /// A skill key of the embedded ROME subset.
    public static func skillKey(_ rng: inout SplitMix64, version: Int = Rome.version) -> String {
        let job = rng.pick(Rome.jobs)
        return Rome.SkillKey(version: version, code: rng.pick(job.skills)).description
    }

    static func date(_ rng: inout SplitMix64) -> String {
        "\(rng.int(in: 1960...2025))-\(two(rng.int(in: 1...12)))-\(two(rng.int(in: 1...28)))"
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

/// Random edits over the real schema — every field kind, deletions and
/// erasures — for convergence and property tests.
public struct RandomEdits {
    public var schema: Schema
    public var values: RandomValues
    /// Records the edits target, by collection (a small pool makes
    /// concurrency common).
    public var records: [(collection: String, id: String)]
    /// How often an edit deletes a record, erases a field, erases a record.
    public var deleteRate = 0.02
    public var eraseFieldRate = 0.02
    public var eraseRecordRate = 0.005
    /// Fields the edits never touch (a node may not move a record to another
    /// agency, so sync tests leave `agency` alone).
    public var excludedFields: Set<String> = []

    public init(schema: Schema = .navette, records: [(collection: String, id: String)], values: RandomValues = .init()) {
        self.schema = schema
        self.records = records
        self.values = values
    }

    /// A random edit for a random record, valid against `state(record)`;
    /// `nil` when the drawn record cannot be edited (erased or deleted).
    public func next(
        _ rng: inout SplitMix64, state: (String, String) -> RecordState
    ) -> (collection: String, id: String, edit: Edit)? {
        let target = rng.pick(records)
        let s = state(target.collection, target.id)
        if s.isErased || s.isDeleted { return nil }
        if rng.chance(eraseRecordRate) { return (target.collection, target.id, .eraseRecord) }
        if rng.chance(deleteRate) { return (target.collection, target.id, .deleteRecord) }
        let spec = schema.collection(target.collection)!
        let field = rng.pick(spec.fields.filter { !excludedFields.contains($0.name) })
        if rng.chance(eraseFieldRate) { return (target.collection, target.id, .eraseField(field.name)) }
        return (target.collection, target.id, edit(for: field, state: s, &rng))
    }

    func edit(for field: FieldSpec, state: RecordState, _ rng: inout SplitMix64) -> Edit {
        let name = field.name
        switch field.kind {
        case .lww, .text:
            return rng.chance(0.1) ? .clear(name) : .set(name, values.value(field.type, &rng))
        case .writeOnce:
            if case .writeOnce(let v?) = state.view(of: field) { return .set(name, v.value) }
            return .set(name, values.value(field.type, &rng))
        case .enableWins, .disableWins:
            return .set(name, .bool(rng.chance(0.5)))
        case .counter:
            return .increment(name, by: Int64(rng.int(in: -3...5)))
        case .awSet:
            let element = values.value(field.type, &rng).stringValue!
            let present = state.keys(ofField: name)
            if !present.isEmpty, rng.chance(0.4) { return .removeElement(name, element: rng.pick(present)) }
            return .add(name, element: element)
        case .awMap:
            let present = state.keys(ofField: name)
            if !present.isEmpty, rng.chance(0.3) { return .removeEntry(name, key: rng.pick(present)) }
            let key =
                !present.isEmpty && rng.chance(0.5)
                ? rng.pick(present) : values.value(field.keyType ?? .string(maxLength: 16), &rng).stringValue!
            let value = field.entryKind == .lww ? values.value(field.type, &rng) : .bool(rng.chance(0.5))
            return .put(name, key: key, value)
        case .log:
            if case .log(let entries) = state.view(of: field), rng.chance(0.2),
                let live = entries.filter({ !$0.isRedacted }).map(\.key).randomElement(using: &rng)
            {
                return .redact(name, entry: live)
            }
            return .append(name, values.value(field.type, &rng))
        }
    }
}
