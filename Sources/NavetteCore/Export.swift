/// The canonical JSON export of a store's current state.
///
/// Two replicas that hold the same changes export the same bytes, so a
/// divergence cannot hide: records are sorted by collection then id, object
/// keys are sorted, every current value carries its id, and conflicts list
/// the losing values. Node-local data (sequence numbers, checkpoints, the
/// node's identity) is left out.
///
/// ```json
/// {"format":"navette-export/1","records":[{"collection":"seeker",
///  "fields":{"contact.phone":{"id":"00000000000000a1-3","value":"0612"}},
///  "id":"6f1c…"}],"schemaVersion":1}
/// ```
public enum CanonicalExport {
    /// The format tag of this export.
    public static let format = "navette-export/1"

    /// The JSON of one record's state.
    public static func record(collection: String, id: String, state: RecordState, schema: Schema) -> JSONValue {
        var o: [String: JSONValue] = ["collection": .string(collection), "id": .string(id)]
        if state.isErased {
            o["erased"] = true
            return .object(o)
        }
        if state.isDeleted { o["deleted"] = true }
        var fields: [String: JSONValue] = [:]
        for name in state.fieldNames {
            let view = schema.field(collection, name).map { state.view(of: $0) } ?? state.unknownView(of: name)
            if view.isEmpty { continue }
            fields[name] = json(view)
        }
        o["fields"] = .object(fields)
        return .object(o)
    }

    /// The whole export, given every record's state in any order.
    public static func document(
        records: [(collection: String, id: String, state: RecordState)], schema: Schema
    ) -> JSONValue {
        let sorted = records.sorted {
            $0.collection != $1.collection
                ? JSONValue.utf8Less($0.collection, $1.collection) : JSONValue.utf8Less($0.id, $1.id)
        }
        return .object([
            "format": .string(format),
            "schemaVersion": .int(Int64(schema.version)),
            "records": .array(sorted.map { record(collection: $0.collection, id: $0.id, state: $0.state, schema: schema) }),
        ])
    }

    /// The JSON of a field view.
    public static func json(_ view: FieldView) -> JSONValue {
        func ref(_ r: ValueRef) -> JSONValue { ["id": .string(r.id.description), "value": r.value] }
        switch view {
        case .register(let current, let conflicts):
            guard let current else { return .null }
            var o = ref(current).objectValue!
            if !conflicts.isEmpty { o["conflicts"] = .array(conflicts.map(ref)) }
            return .object(o)
        case .writeOnce(let v): return v.map(ref) ?? .null
        case .counter(let n): return ["value": .int(n)]
        case .flag(let b): return ["value": b.map(JSONValue.bool) ?? .null]
        case .set(let elements): return ["elements": .array(elements.map(JSONValue.string))]
        case .map(let entries): return ["entries": .object(entries.mapValues(json))]
        case .log(let entries):
            return [
                "entries": .array(
                    entries.map { e in
                        guard let v = e.entry else { return ["key": .string(e.key), "redacted": true] }
                        return ["key": .string(e.key), "id": .string(v.id.description), "value": v.value]
                    })
            ]
        case .unknown(let slots):
            var o: [String: JSONValue] = [:]
            for (k, values) in slots {
                o[k.key ?? ""] = .array(
                    values.map { v in
                        v.value.map { ["id": .string(v.id.description), "value": $0] }
                            ?? ["id": .string(v.id.description), "removed": true]
                    })
            }
            return ["unknown": .object(o)]
        }
    }
}
