import Crypto
import Foundation
import NavetteClient
import NavetteCore
import NavetteWire

/// A node the tool plays: its key, its id, the changes it made.
struct Probe: Sendable {
    let name: String
    let node: NodeID
    let key: Curve25519.Signing.PrivateKey
    var agency = ""
    var counsellor: String?
    var counter: UInt64 = 0
    var lastTime: UInt64 = 0
    var cursor: String?

    init(name: String) {
        self.name = name
        self.node = NodeID(rawValue: UInt64.random(in: 1...UInt64.max))
        self.key = Curve25519.Signing.PrivateKey()
    }

    var signer: MessageSigner { MessageSigner(key: key, keyID: node.description) }
    var publicKey: String { Base64URL.encode(key.publicKey.rawRepresentation) }

    /// A change made by this node, as JSON, stamped `ahead` milliseconds
    /// after the server's time (hybrid: never below the last one).
    mutating func change(
        _ collection: String, _ record: String, field: String? = nil, key: String? = nil, op: String = "set",
        value: JSONValue? = nil, pred: [String] = [], extra: [String: JSONValue] = [:], serverMillis: Int64,
        ahead: Int64 = 0
    ) -> JSONValue {
        counter += 1
        let wall = UInt64(max(0, serverMillis + ahead)) << 16
        let time = max(wall, lastTime + 1)
        // A change stamped ahead on purpose (a wrong clock) does not drag
        // the node's later changes along with it.
        if ahead == 0 { lastTime = time }
        var o = extra
        o["id"] = .string("\(node)-\(counter)")
        o["time"] = .string(Timestamp(rawValue: time).description)
        o["collection"] = .string(collection)
        o["record"] = .string(record)
        o["op"] = .string(op)
        if let field { o["field"] = .string(field) }
        if let key { o["key"] = .string(key) }
        if let value { o["value"] = value }
        if !pred.isEmpty { o["pred"] = .array(pred.map(JSONValue.string)) }
        return .object(o)
    }
}

/// An answer as received, with its body inflated and parsed.
struct Reply: Sendable {
    var status: Int
    var headers: [HeaderField]
    var raw: [UInt8]
    var body: [UInt8]
    var json: JSONValue?

    /// The problem code of an error answer (`malformed-request`).
    var problem: String? {
        guard let type = json?["type"]?.stringValue, type.hasPrefix("urn:navette:problem:") else { return nil }
        return String(type.dropFirst("urn:navette:problem:".count))
    }

    var summary: String { problem.map { "\(status) \($0)" } ?? "\(status)" }
}

/// A check that did not hold.
struct CheckFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailure(message()) }
}

func expectProblem(_ reply: Reply, _ code: String, _ what: String) throws {
    let status = ProblemType.code(code)?.status ?? 0
    try expect(
        reply.status == status && reply.problem == code,
        "\(what): expected \(status) \(code), the server answered \(reply.summary)")
}
