/// Why an encoded change was refused. Messages never quote values.
public struct ChangeDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Change {
    static let knownMembers: Set<String> = [
        "id", "time", "collection", "record", "field", "key", "op", "value", "pred", "seen", "purged",
    ]

    /// The change as a JSON object; ``JSONValue/canonicalString`` of it is
    /// the change's canonical encoding.
    public var jsonValue: JSONValue {
        var o = unknownMembers
        o["id"] = .string(id.description)
        o["time"] = .string(time.description)
        o["collection"] = .string(collection)
        o["record"] = .string(record)
        if let field { o["field"] = .string(field) }
        if let key { o["key"] = .string(key) }
        o["op"] = .string(operation.name)
        if let value { o["value"] = value }
        if !pred.isEmpty { o["pred"] = .array(pred.map { .string($0.description) }) }
        if !seen.isEmpty {
            o["seen"] = .object(Dictionary(uniqueKeysWithValues: seen.map { ($0.key.description, JSONValue.counter($0.value)) }))
        }
        if isPurged { o["purged"] = .bool(true) }
        return .object(o)
    }

    /// Decodes a change from its JSON object.
    ///
    /// Unknown members are kept in ``unknownMembers``; unknown operations
    /// become ``Operation/other(_:)``. Only the structure is checked here,
    /// not the value against a schema: a peer's change is applied whatever
    /// field it names.
    ///
    /// - Throws: ``ChangeDecodingError`` naming the member that is wrong.
    public init(json: JSONValue) throws {
        guard case .object(let o) = json else { throw ChangeDecodingError("a change must be a JSON object") }
        func string(_ name: String, required: Bool = true) throws -> String? {
            switch o[name] {
            case .string(let s)?: return s
            case nil where !required: return nil
            case nil: throw ChangeDecodingError("a change lacks the member '\(name)'")
            default: throw ChangeDecodingError("the member '\(name)' of a change must be a string")
            }
        }
        guard let id = ChangeID(try string("id")!) else {
            throw ChangeDecodingError("the member 'id' is not a change id (<16 hex digits>-<counter>)")
        }
        guard let time = Timestamp(try string("time")!) else {
            throw ChangeDecodingError("the member 'time' is not a timestamp (16 hex digits)")
        }
        let collection = try string("collection")!
        let record = try string("record")!
        guard !collection.isEmpty, collection.utf8.count <= 64 else {
            throw ChangeDecodingError("the member 'collection' must have 1 to 64 bytes")
        }
        guard !record.isEmpty, record.utf8.count <= 128 else {
            throw ChangeDecodingError("the member 'record' must have 1 to 128 bytes")
        }
        let field = try string("field", required: false)
        let key = try string("key", required: false)
        let operation = Operation(name: try string("op")!)
        var pred: [ChangeID] = []
        if let p = o["pred"] {
            guard case .array(let items) = p else { throw ChangeDecodingError("the member 'pred' must be an array") }
            for item in items {
                guard let s = item.stringValue, let cid = ChangeID(s) else {
                    throw ChangeDecodingError("the member 'pred' must hold change ids")
                }
                pred.append(cid)
            }
        }
        var seen: [NodeID: UInt64] = [:]
        if let s = o["seen"] {
            guard case .object(let entries) = s else { throw ChangeDecodingError("the member 'seen' must be an object") }
            for (k, v) in entries {
                guard let node = NodeID(k), let n = v.counterValue else {
                    throw ChangeDecodingError("the member 'seen' must map node ids to counters")
                }
                seen[node] = n
            }
        }
        var isPurged = false
        if let p = o["purged"] {
            guard let b = p.boolValue else { throw ChangeDecodingError("the member 'purged' must be a Boolean") }
            isPurged = b
        }
        switch operation {
        case .set, .remove, .increment, .append, .erase:
            if operation != .erase, field == nil {
                throw ChangeDecodingError("a '\(operation.name)' change must name a field")
            }
        case .delete, .other: break
        }
        if operation == .append, key == nil { throw ChangeDecodingError("an 'append' change must name its entry key") }
        if !isPurged, operation == .set || operation == .append || operation == .increment, o["value"] == nil {
            throw ChangeDecodingError("a '\(operation.name)' change must carry a value")
        }
        if operation == .increment, !isPurged, o["value"]?.intValue == nil {
            throw ChangeDecodingError("an 'increment' change must carry an integer value")
        }
        self.init(
            id: id, time: time, collection: collection, record: record, field: field, key: key,
            operation: operation, value: o["value"], pred: pred, seen: seen, isPurged: isPurged,
            unknownMembers: o.filter { !Change.knownMembers.contains($0.key) }
        )
    }

    /// Decodes a change from its encoded bytes, strictly.
    ///
    /// - Throws: ``JSONParsingError`` or ``ChangeDecodingError``.
    public init(encoded bytes: some Collection<UInt8>) throws {
        try self.init(json: try JSONValue(parsing: bytes))
    }

    /// The canonical encoding.
    public var encoded: String { String(decoding: encodedBytes, as: UTF8.self) }

    /// The canonical encoding as UTF-8 bytes: the bytes of
    /// `jsonValue.canonicalString`, written directly when the change has no
    /// unknown member (the members in their canonical order, no dictionary
    /// built).
    public var encodedBytes: [UInt8] {
        guard unknownMembers.isEmpty else { return jsonValue.canonicalBytes }
        var out: [UInt8] = []
        out.reserveCapacity(160)
        var first = true
        func member(_ name: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONValue.writeMemberName(name, to: &out)
        }
        out.append(UInt8(ascii: "{"))
        // Members in the order of their names' UTF-8 bytes.
        member("collection"); JSONValue.writeString(collection, to: &out)
        if let field { member("field"); JSONValue.writeString(field, to: &out) }
        member("id"); DirectWriter.quoted(id, to: &out)
        if let key { member("key"); JSONValue.writeString(key, to: &out) }
        member("op"); JSONValue.writeString(operation.name, to: &out)
        if !pred.isEmpty {
            member("pred")
            out.append(UInt8(ascii: "["))
            for (i, p) in pred.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                DirectWriter.quoted(p, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        if isPurged { member("purged"); out.append(contentsOf: "true".utf8) }
        member("record"); JSONValue.writeString(record, to: &out)
        if !seen.isEmpty {
            // Node ids are 16 fixed-width hex digits: their numeric order is
            // the order of their text's bytes.
            member("seen")
            out.append(UInt8(ascii: "{"))
            for (i, node) in seen.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                DirectWriter.quotedHex16(node.rawValue, to: &out)
                out.append(UInt8(ascii: ":"))
                DirectWriter.decimal(seen[node]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        member("time"); DirectWriter.quotedHex16(time.rawValue, to: &out)
        if let value { member("value"); value.write(to: &out) }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
