import NavetteCore

/// Why a message body was refused: names the member and the rule, never a
/// value.
public struct MessageError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    /// Whether the message is of a schema version this side does not speak
    /// (`upgrade-required`), rather than malformed.
    public var isVersionMismatch = false
    public init(_ message: String, versionMismatch: Bool = false) {
        self.message = message
        self.isVersionMismatch = versionMismatch
    }
    public var description: String { message }
}

/// The version of the sync messages (and of the schema they carry).
public let wireSchemaVersion = 1

/// Limits every party applies before decoding a message.
public enum MessageLimits {
    /// The largest body, compressed or not, in bytes.
    public static let maximumBodyBytes = 4 << 20
    /// The most changes in one push or pull.
    public static let maximumChanges = 1_000
    /// JSON nesting.
    public static let maximumDepth = 32
    static let json = JSONParsingLimits(maximumDepth: maximumDepth, maximumBytes: maximumBodyBytes * 4)
}

/// Reads a JSON object strictly: duplicate keys, trailing content and depth
/// are refused by the parser; members this message does not define are
/// refused here.
struct ObjectReader {
    let members: [String: JSONValue]
    let message: String

    init(_ bytes: [UInt8], _ message: String, allowed: Set<String>) throws {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes, limits: MessageLimits.json)
        } catch let e as JSONParsingError {
            throw MessageError("the \(message) is not valid JSON: \(e)")
        }
        try self.init(value, message, allowed: allowed)
    }

    init(_ value: JSONValue, _ message: String, allowed: Set<String>) throws {
        guard case .object(let o) = value else { throw MessageError("the \(message) must be a JSON object") }
        if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw MessageError("the \(message) has an unknown member\(Self.quoted(unknown))")
        }
        self.members = o
        self.message = message
    }

    /// A member name as an error may repeat it: short identifiers only,
    /// never whatever a request carried.
    static func quoted(_ name: String) -> String {
        let plain = name.utf8.count <= 32 && name.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F
                || $0 == 0x2D
        }
        return plain ? " '\(name)'" : ""
    }

    func string(_ name: String, maxLength: Int = 256) throws -> String {
        guard let s = members[name]?.stringValue else {
            throw MessageError("the \(message) needs the string member '\(name)'")
        }
        guard !s.isEmpty, s.utf8.count <= maxLength else {
            throw MessageError("the member '\(name)' of the \(message) must have 1 to \(maxLength) bytes")
        }
        return s
    }

    func optionalString(_ name: String, maxLength: Int = 256) throws -> String? {
        members[name] == nil ? nil : try string(name, maxLength: maxLength)
    }

    func int(_ name: String) throws -> Int64 {
        guard let i = members[name]?.intValue else {
            throw MessageError("the \(message) needs the integer member '\(name)'")
        }
        return i
    }

    func bool(_ name: String) throws -> Bool {
        guard let b = members[name]?.boolValue else {
            throw MessageError("the \(message) needs the Boolean member '\(name)'")
        }
        return b
    }

    func changes(_ name: String) throws -> [Change] {
        guard let items = members[name]?.arrayValue else {
            throw MessageError("the \(message) needs the array member '\(name)'")
        }
        guard items.count <= MessageLimits.maximumChanges else {
            throw MessageError("the \(message) carries more than \(MessageLimits.maximumChanges) changes")
        }
        return try items.enumerated().map { i, v in
            do {
                return try Change(json: v)
            } catch {
                throw MessageError("change \(i + 1) of the \(message) is invalid: \(error)")
            }
        }
    }

    func schemaVersion() throws {
        let v = try int("schemaVersion")
        guard v == Int64(wireSchemaVersion) else {
            throw MessageError(
                "schema version \(v) is not supported; this server speaks \(wireSchemaVersion)", versionMismatch: true)
        }
    }
}

/// A node's batch of changes: `POST /v1/sync/push`.
///
/// ```json
/// {"batch":"3f0e…","changes":[…],"schemaVersion":1}
/// ```
///
/// The batch id makes a retried push idempotent; changes are idempotent too.
public struct PushRequest: Hashable, Sendable {
    public var batch: String
    public var changes: [Change]

    public init(batch: String, changes: [Change]) {
        self.batch = batch
        self.changes = changes
    }

    public var body: [UInt8] {
        JSONValue.object([
            "schemaVersion": .int(Int64(wireSchemaVersion)), "batch": .string(batch),
            "changes": .array(changes.map(\.jsonValue)),
        ]).canonicalBytes
    }

    /// - Throws: ``MessageError`` naming what is wrong.
    public init(body: [UInt8]) throws {
        let r = try ObjectReader(body, "push request", allowed: ["schemaVersion", "batch", "changes"])
        try r.schemaVersion()
        self.batch = try r.string("batch", maxLength: 64)
        self.changes = try r.changes("changes")
    }
}

/// Why the server refused one change of a push (the rest applied).
public struct RefusedChange: Hashable, Sendable {
    public var id: ChangeID
    /// A stable reason: `outside-agency`, `collection-not-writable`,
    /// `agency-change-not-allowed`, `change-from-future`, `not-own-change`.
    public var reason: String

    public init(id: ChangeID, reason: String) {
        self.id = id
        self.reason = reason
    }
}

/// The server's answer to a push.
public struct PushResponse: Hashable, Sendable {
    public var batch: String
    /// Changes stored (or already held: a retried batch).
    public var accepted: Int
    public var refused: [RefusedChange]

    public init(batch: String, accepted: Int, refused: [RefusedChange]) {
        self.batch = batch
        self.accepted = accepted
        self.refused = refused
    }

    public var body: [UInt8] {
        JSONValue.object([
            "batch": .string(batch), "accepted": .int(Int64(accepted)),
            "refused": .array(refused.map { ["id": .string($0.id.description), "reason": .string($0.reason)] }),
        ]).canonicalBytes
    }

    public init(body: [UInt8]) throws {
        let r = try ObjectReader(body, "push response", allowed: ["batch", "accepted", "refused"])
        batch = try r.string("batch", maxLength: 64)
        accepted = Int(try r.int("accepted"))
        guard let items = r.members["refused"]?.arrayValue else { throw MessageError("the push response lacks 'refused'") }
        refused = try items.map { item in
            let e = try ObjectReader(item, "refused change", allowed: ["id", "reason"])
            guard let id = ChangeID(try e.string("id")) else { throw MessageError("a refused change id is invalid") }
            return RefusedChange(id: id, reason: try e.string("reason", maxLength: 64))
        }
    }
}

/// A record entering a node's view: its current state (whole, or only
/// identity and contact for a stub), with the value ids merges need.
public struct Snapshot: Hashable, Sendable {
    public var collection: String
    public var record: String
    public var state: RecordState
    public var stub: Bool

    public init(collection: String, record: String, state: RecordState, stub: Bool) {
        self.collection = collection
        self.record = record
        self.state = state
        self.stub = stub
    }
}

/// The server's answer to `GET /v1/sync/pull?cursor=…&limit=…`: records
/// leaving the node's view (drops, to purge), records entering it
/// (snapshots, to merge), then changes, in that order.
public struct PullResponse: Hashable, Sendable {
    public var drops: [(collection: String, record: String)]
    public var snapshots: [Snapshot]
    /// On a bootstrap (`?bootstrap=1`), every record of the node's view: the
    /// node drops what it holds beyond it.
    public var view: [(collection: String, record: String)]?
    public var changes: [Change]
    /// The cursor to pull from next (opaque; bound to the node).
    public var cursor: String
    /// Whether more changes wait after this page.
    public var more: Bool

    public init(
        drops: [(collection: String, record: String)] = [], snapshots: [Snapshot] = [],
        view: [(collection: String, record: String)]? = nil, changes: [Change], cursor: String, more: Bool
    ) {
        self.view = view
        self.drops = drops
        self.snapshots = snapshots
        self.changes = changes
        self.cursor = cursor
        self.more = more
    }

    public static func == (a: PullResponse, b: PullResponse) -> Bool { a.body == b.body }
    public func hash(into h: inout Hasher) { h.combine(body) }

    public var body: [UInt8] {
        var o: [String: JSONValue] = [
            "changes": .array(changes.map(\.jsonValue)), "cursor": .string(cursor), "more": .bool(more),
        ]
        if !drops.isEmpty {
            o["drops"] = Self.encode(drops)
        }
        if let view {
            o["view"] = Self.encode(view)
        }
        if !snapshots.isEmpty {
            o["snapshots"] = .array(
                snapshots.map {
                    [
                        "collection": .string($0.collection), "record": .string($0.record), "state": $0.state.jsonValue,
                        "stub": .bool($0.stub),
                    ]
                })
        }
        return JSONValue.object(o).canonicalBytes
    }

    /// Record references as `[{"collection","record"}]`.
    static func encode(_ refs: [(collection: String, record: String)]) -> JSONValue {
        .array(refs.map { ["collection": .string($0.collection), "record": .string($0.record)] })
    }

    static func decode(_ items: [JSONValue], _ what: String) throws -> [(collection: String, record: String)] {
        try items.map { d in
            let e = try ObjectReader(d, what, allowed: ["collection", "record"])
            return (try e.string("collection", maxLength: 64), try e.string("record", maxLength: 128))
        }
    }

    public init(body: [UInt8]) throws {
        let r = try ObjectReader(body, "pull response", allowed: ["changes", "cursor", "more", "drops", "snapshots", "view"])
        changes = try r.changes("changes")
        cursor = try r.string("cursor", maxLength: 512)
        more = try r.bool("more")
        drops = try Self.decode(r.members["drops"]?.arrayValue ?? [], "drop")
        view = try r.members["view"]?.arrayValue.map { try Self.decode($0, "view entry") }
        snapshots = try (r.members["snapshots"]?.arrayValue ?? []).map { v in
            let e = try ObjectReader(v, "snapshot", allowed: ["collection", "record", "state", "stub"])
            guard let state = e.members["state"] else { throw MessageError("a snapshot lacks its state") }
            do {
                return Snapshot(
                    collection: try e.string("collection", maxLength: 64), record: try e.string("record", maxLength: 128),
                    state: try RecordState(json: state), stub: try e.bool("stub"))
            } catch let error as MessageError {
                throw error
            } catch {
                throw MessageError("a snapshot's state is malformed")
            }
        }
    }
}

/// A server's public signing key.
public struct ServerKey: Hashable, Sendable {
    public var keyID: String
    /// The raw Ed25519 public key, base64url without padding.
    public var publicKey: String

    public init(keyID: String, publicKey: String) {
        self.keyID = keyID
        self.publicKey = publicKey
    }

    var jsonValue: JSONValue { ["keyid": .string(keyID), "publicKey": .string(publicKey), "alg": "ed25519"] }

    init(_ v: JSONValue) throws {
        let r = try ObjectReader(v, "server key", allowed: ["keyid", "publicKey", "alg"])
        keyID = try r.string("keyid", maxLength: 64)
        publicKey = try r.string("publicKey", maxLength: 64)
        guard try r.string("alg") == "ed25519" else { throw MessageError("a server key must be ed25519") }
    }
}

/// A node's enrolment: `POST /v1/enrol`, signed by the key it registers.
public struct EnrolRequest: Hashable, Sendable {
    /// The one-time code the admin issued.
    public var code: String
    /// The node id minted on the laptop; the signature's `keyid`.
    public var node: NodeID
    /// The node's Ed25519 public key, base64url without padding.
    public var publicKey: String
    /// A name for people.
    public var name: String

    public init(code: String, node: NodeID, publicKey: String, name: String) {
        self.code = code
        self.node = node
        self.publicKey = publicKey
        self.name = name
    }

    public var body: [UInt8] {
        JSONValue.object([
            "schemaVersion": .int(Int64(wireSchemaVersion)), "code": .string(code), "node": .string(node.description),
            "publicKey": .string(publicKey), "name": .string(name),
        ]).canonicalBytes
    }

    public init(body: [UInt8]) throws {
        let r = try ObjectReader(body, "enrolment request", allowed: ["schemaVersion", "code", "node", "publicKey", "name"])
        try r.schemaVersion()
        code = try r.string("code", maxLength: 64)
        guard let n = NodeID(try r.string("node")) else { throw MessageError("'node' is not a node id") }
        node = n
        publicKey = try r.string("publicKey", maxLength: 64)
        name = try r.string("name", maxLength: 100)
    }
}

/// The server's answer to an enrolment: who the node is now, and the keys
/// to pin.
public struct EnrolResponse: Hashable, Sendable {
    public var node: NodeID
    public var agency: String
    public var counsellor: String?
    public var serverKeys: [ServerKey]

    public init(node: NodeID, agency: String, counsellor: String?, serverKeys: [ServerKey]) {
        self.node = node
        self.agency = agency
        self.counsellor = counsellor
        self.serverKeys = serverKeys
    }

    public var body: [UInt8] {
        var o: [String: JSONValue] = [
            "node": .string(node.description), "agency": .string(agency),
            "serverKeys": .array(serverKeys.map(\.jsonValue)),
        ]
        if let counsellor { o["counsellor"] = .string(counsellor) }
        return JSONValue.object(o).canonicalBytes
    }

    public init(body: [UInt8]) throws {
        let r = try ObjectReader(body, "enrolment response", allowed: ["node", "agency", "counsellor", "serverKeys"])
        guard let n = NodeID(try r.string("node")) else { throw MessageError("'node' is not a node id") }
        node = n
        agency = try r.string("agency", maxLength: 64)
        counsellor = try r.optionalString("counsellor", maxLength: 64)
        guard let keys = r.members["serverKeys"]?.arrayValue, !keys.isEmpty else {
            throw MessageError("the enrolment response carries no server key")
        }
        serverKeys = try keys.map(ServerKey.init)
    }
}

/// The server's key document: `GET /v1/server-keys`.
public struct ServerKeysDocument: Hashable, Sendable {
    public var keys: [ServerKey]
    public init(keys: [ServerKey]) { self.keys = keys }
    public var body: [UInt8] { JSONValue.object(["keys": .array(keys.map(\.jsonValue))]).canonicalBytes }
    public init(body: [UInt8]) throws {
        let r = try ObjectReader(body, "server key document", allowed: ["keys"])
        keys = try (r.members["keys"]?.arrayValue ?? []).map(ServerKey.init)
    }
}
