import Crypto
import Foundation
import Logging
import NavetteCore
import NavetteStore
import NavetteWire

/// What one sync did.
public struct SyncReport: Hashable, Sendable {
    /// Changes this node pushed and the server accepted.
    public var pushed = 0
    /// Changes the server refused (parked on the node).
    public var refused = 0
    /// Changes pulled from the server, and how many were new here.
    public var pulled = 0
    public var applied = 0
    /// HTTP exchanges answered by the server. An attempt that failed below
    /// HTTP (the connection broke) is not counted here but in ``retries``.
    public var roundTrips = 0
    /// Bytes sent and received, bodies and header fields.
    public var bytesSent = 0
    public var bytesReceived = 0
    /// The clock offset learned from the server, in milliseconds.
    public var clockOffset: Int64 = 0
    /// Conflicts the node holds after the sync.
    public var conflicts = 0
    /// Records that entered this node's view (snapshots) and left it (drops).
    public var snapshots = 0
    public var dropped = 0
    /// Steps retried after a transient failure.
    public var retries = 0
    /// How long the sync took.
    public var duration: Duration = .zero
    /// Changes stamped again because the server found them in the future.
    public var restamped: Int { restampedIDs.count }
    var restampedIDs: Set<ChangeID> = []
    public init() {}
}

/// Progress of a long sync, for a progress line.
public struct SyncProgress: Hashable, Sendable {
    public enum Phase: String, Hashable, Sendable { case push, pull }
    public var phase: Phase
    /// Changes done so far in this phase.
    public var done: Int
}

/// The node's side of sync: signs every request afresh, trusts only
/// answers signed by the pinned server key and bound to the request, learns
/// the clock offset from them, pushes its own changes in bounded batches,
/// pulls the server's in pages, and records durable progress after each.
///
/// ```swift
/// let engine = try SyncEngine(store: store, key: try NodeKey.load(directory: dir))
/// let report = try await engine.sync()
/// ```
public struct SyncEngine: Sendable {
    public let store: RecordStore
    let key: Curve25519.Signing.PrivateKey
    let transport: any SyncTransport
    let logger: Logger
    /// Changes per push, at most.
    public var pushBatchSize = 500
    /// Bytes of changes per push (before compression), at most.
    public var pushBatchBytes = 512 << 10
    /// Changes per pull page.
    public var pullPageSize = 500
    /// Attempts per step, and the first backoff delay (see ``SyncStateMachine``).
    public var maximumAttempts = 6
    public var baseDelay: Duration = .milliseconds(500)
    /// How the engine waits between retries (tests inject an immediate one).
    public var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    /// The peer name under which the server's checkpoint is kept.
    public static let serverPeer = "server"

    public init(store: RecordStore, key: Curve25519.Signing.PrivateKey, transport: any SyncTransport = HTTPTransport(), logger: Logger = Logger(label: "navette.sync")) {
        self.store = store
        self.key = key
        self.transport = transport
        self.logger = logger
    }

    var signer: MessageSigner { MessageSigner(key: key, keyID: store.identity.node.description) }

    // MARK: - Enrolment

    /// Enrols this node with the server at `url`, using a one-time code an
    /// administrator issued; pins the server's key and takes the agency and
    /// counsellor the code binds.
    ///
    /// - Throws: ``SyncError``.
    @discardableResult
    public func enrol(server url: String, code: String) async throws -> EnrolResponse {
        let server = try ServerURL(url)
        let identity = store.identity
        let request = EnrolRequest(
            code: code, node: identity.node, publicKey: Base64URL.encode(key.publicKey.rawRepresentation),
            name: identity.name)
        var report = SyncReport()
        let (status, body, _) = try await exchange(
            server, method: "POST", path: "/v1/enrol", query: nil, body: request.body, keys: nil, report: &report)
        guard status == 200 else { throw SyncError(.refused, "enrolment failed with status \(status)") }
        let response: EnrolResponse
        do {
            response = try EnrolResponse(body: body)
        } catch {
            throw SyncError(.untrustedResponse, "the server's enrolment answer is malformed")
        }
        try store.setIdentity(agency: response.agency, counsellor: response.counsellor)
        try store.setMeta("sync.server", server.base)
        try store.setMeta("sync.serverKeys", JSONValue.object(Dictionary(uniqueKeysWithValues: response.serverKeys.map { ($0.keyID, JSONValue.string($0.publicKey)) })).canonicalString)
        try store.setMeta("sync.cursor", nil)
        try store.setCheckpoint(peer: Self.serverPeer, sequence: 0)
        logger.info("enrolled", metadata: ["sync.node": "\(identity.node)", "sync.agency": "\(response.agency)"])
        return response
    }

    /// Checks a server URL: `https://`, or `http://` to this machine only.
    ///
    /// - Returns: the normalised base URL.
    public static func checkServerURL(_ url: String) throws -> String { try ServerURL(url).base }

    /// The pinned server keys, by key id.
    func pinnedKeys() throws -> [String: Curve25519.Signing.PublicKey] {
        guard let text = try store.meta("sync.serverKeys"), let o = (try? JSONValue(parsing: text))?.objectValue else {
            throw SyncError(.notEnrolled, "this node is not enrolled; run 'navette node enrol --server URL --code CODE'")
        }
        var out: [String: Curve25519.Signing.PublicKey] = [:]
        for (id, v) in o {
            if let raw = v.stringValue.flatMap(Base64URL.decode), let k = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) {
                out[id] = k
            }
        }
        return out
    }

    // MARK: - Sync

    /// Pushes this node's pending changes, then pulls what the server holds
    /// for it. Each acknowledged batch and page is durable progress: an
    /// interrupted sync resumes where it stopped.
    ///
    /// - Throws: ``SyncError``; on `revoked` the node's data has been purged.
    public func sync(progress: @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncReport {
        guard try store.meta("sync.revoked") == nil else {
            throw SyncError(.revoked, "this laptop was revoked by an administrator and can no longer sync")
        }
        guard let base = try store.meta("sync.server") else {
            throw SyncError(.notEnrolled, "this node is not enrolled; run 'navette node enrol --server URL --code CODE'")
        }
        let server = try ServerURL(base)
        let keys = try pinnedKeys()
        var report = SyncReport()
        let start = ContinuousClock.now
        do {
            try await drive(server, keys: keys, report: &report, progress: progress)
        } catch let e as SyncError where e.problem == ProblemType.cursorExpired.code {
            // The server no longer has our place in its history: rebuild the view
            // from snapshots (own unsynced changes were pushed first). After a
            // restore from backup, also push everything again: it may have lost some.
            try store.setMeta("sync.cursor", nil)
            try store.setMeta("sync.bootstrap", "1")
            if e.reason == "restored" {
                try store.setCheckpoint(peer: Self.serverPeer, sequence: 0, force: true)
            }
            try await drive(server, keys: keys, report: &report, progress: progress)
        }
        try store.setMeta("sync.lastSync", String(store.now()))
        report.clockOffset = store.clockOffset
        report.conflicts = try store.status().conflicts
        report.duration = ContinuousClock.now - start
        return report
    }

    /// Runs the state machine: performs its actions until it finishes.
    func drive(
        _ server: ServerURL, keys: [String: Curve25519.Signing.PublicKey], report: inout SyncReport,
        progress: @Sendable (SyncProgress) -> Void
    ) async throws {
        var machine = SyncStateMachine(maximumAttempts: maximumAttempts, baseDelay: baseDelay)
        var action = machine.start()
        while true {
            switch action {
            case .push, .pull:
                do {
                    if action == .push {
                        action = machine.pushed(more: try await pushOnce(server, keys: keys, report: &report, progress: progress))
                    } else {
                        action = machine.pulled(more: try await pullOnce(server, keys: keys, report: &report, progress: progress))
                    }
                } catch let e as SyncError {
                    action = machine.failed(e, isTransient: e.isTransient)
                }
            case .wait(let delay):
                report.retries += 1
                try await sleep(delay)
                action = machine.retryTimerFired()
            case .finish:
                return
            case .fail(let error):
                throw error
            }
        }
    }

    /// Pushes one batch of pending changes (bounded in count and bytes).
    ///
    /// - Returns: whether more are pending.
    func pushOnce(
        _ server: ServerURL, keys: [String: Curve25519.Signing.PublicKey], report: inout SyncReport,
        progress: @Sendable (SyncProgress) -> Void
    ) async throws -> Bool {
        let sent = try store.checkpoint(peer: Self.serverPeer)
        var pending = try store.ownChanges(after: sent, limit: pushBatchSize + 1)
        guard !pending.isEmpty else {
            // The next search for what to push starts after what was pulled.
            try store.settleCheckpoint(peer: Self.serverPeer)
            return false
        }
        var more = pending.count > pushBatchSize
        pending = Array(pending.prefix(pushBatchSize))
        var bytes = 0
        for (i, p) in pending.enumerated() {
            bytes += p.change.encoded.utf8.count
            if bytes > pushBatchBytes, i > 0 {
                pending = Array(pending.prefix(i))
                more = true
                break
            }
        }
        let last = pending.last!
        // The batch id names the range of the log it carries, in the server
        // store's incarnation: a push whose answer was lost is sent again
        // under the same id (SYNC-002) and answered as before, without
        // applying anything twice; after a restore of the server, the same
        // range is a new batch and is applied again.
        let incarnation = try store.meta("sync.cursor").map { $0.split(separator: ".").dropFirst().first.map(String.init) ?? "" } ?? ""
        let batch = "\(incarnation.prefix(16))-\(pending.first!.sequence)-\(last.sequence)"
        let request = PushRequest(batch: batch, changes: pending.map(\.change))
        let (status, body, _) = try await exchange(
            server, method: "POST", path: "/v1/sync/push", query: nil, body: request.body, keys: keys, report: &report)
        guard status == 200, let response = try? PushResponse(body: body), response.batch == request.batch else {
            throw SyncError(.untrustedResponse, "the server's answer to a push is malformed")
        }
        let byID = Dictionary(uniqueKeysWithValues: pending.map { ($0.change.id, $0.change) })
        // A change refused as stamped in the future is stamped again with the
        // corrected time (learned from this very answer) and sent again, once.
        let future = response.refused.filter { $0.reason == "change-from-future" && !report.restampedIDs.contains($0.id) }
        let parked = response.refused.filter { r in !future.contains(r) }.compactMap { r in byID[r.id].map { ($0, r.reason) } }
        try store.park(parked)
        report.pushed += response.accepted
        report.refused += parked.count
        try store.setCheckpoint(peer: Self.serverPeer, sequence: last.sequence)
        if !future.isEmpty {
            try store.restamp(future.map(\.id))
            report.restampedIDs.formUnion(future.map(\.id))
            more = true
        }
        progress(SyncProgress(phase: .push, done: report.pushed + report.refused))
        return more
    }

    /// Pulls and applies one page.
    ///
    /// - Returns: whether more pages wait.
    func pullOnce(
        _ server: ServerURL, keys: [String: Curve25519.Signing.PublicKey], report: inout SyncReport,
        progress: @Sendable (SyncProgress) -> Void
    ) async throws -> Bool {
        var query = "limit=\(pullPageSize)"
        let bootstrapping = try store.meta("sync.bootstrap") != nil
        if let cursor = try store.meta("sync.cursor") {
            query = "cursor=\(cursor)&" + query
        } else if bootstrapping {
            query = "bootstrap=1&" + query
        }
        let (status, body, _) = try await exchange(
            server, method: "GET", path: "/v1/sync/pull", query: query, body: nil, keys: keys, report: &report)
        guard status == 200, let page = try? PullResponse(body: body) else {
            throw SyncError(.untrustedResponse, "the server's answer to a pull is malformed")
        }
        let summary = try Self.apply(page, to: store)
        if page.view != nil { try store.setMeta("sync.bootstrap", nil) }
        try store.setMeta("sync.cursor", page.cursor)
        report.dropped += page.drops.count
        report.snapshots += page.snapshots.count
        report.pulled += page.changes.count
        report.applied += summary.applied
        progress(SyncProgress(phase: .pull, done: report.pulled))
        return page.more
    }

    /// Applies one pull page to a node's store, in the order the protocol
    /// requires (SYNC-012): on a bootstrap, purges what the view no longer
    /// holds; purges the drops; merges the snapshots (never replacing the
    /// node's own state: CHG-005); applies the changes. The caller stores
    /// the page's cursor afterwards.
    ///
    /// - Returns: what applying the changes did.
    public static func apply(_ page: PullResponse, to store: RecordStore) throws -> ApplySummary {
        if let view = page.view {
            let keep = Set(view.map { RecordRef($0.collection, $0.record) })
            let local = try store.allStates().map { RecordRef($0.collection, $0.id) }
            try store.drop(local.filter { !keep.contains($0) })
        }
        try store.drop(page.drops.map { RecordRef($0.collection, $0.record) })
        try store.mergeSnapshots(page.snapshots.map { (RecordRef($0.collection, $0.record), $0.state) })
        return try store.apply(page.changes)
    }

    // MARK: - One signed exchange

    /// Signs and sends a request, and returns the verified answer. A
    /// `clock-skew` answer corrects the offset and the request is signed
    /// again and retried once; a `node-revoked` answer purges the node.
    ///
    /// - Parameter keys: the pinned server keys; `nil` at enrolment, when the
    ///   answer carries the keys to pin.
    func exchange(
        _ server: ServerURL, method: String, path: String, query: String?, body: [UInt8]?,
        keys: [String: Curve25519.Signing.PublicKey]?, report: inout SyncReport
    ) async throws -> (Int, [UInt8], ResponseParts) {
        var challenge: String?
        for attempt in 0..<3 {
            var parts = RequestParts(method: method, authority: server.authority, path: server.path + path, query: query)
            parts.headers.append(HeaderField("accept-encoding", BodyEncoding.gzip))
            var wireBody = body
            if let body {
                parts.headers.append(HeaderField("content-type", "application/json"))
                if let compressed = BodyEncoding.compress(body) {
                    wireBody = compressed
                    parts.headers.append(HeaderField("content-encoding", BodyEncoding.gzip))
                }
            }
            // Signed immediately before sending: each attempt gets a fresh created and nonce.
            try signer.sign(&parts, body: wireBody, created: Int64(store.now() / 1000), nonce: challenge ?? Base64URL.nonce())
            let url = server.base + path + (query.map { "?" + $0 } ?? "")
            let reply = try await transport.send(TransportRequest(url: url, method: method, headers: parts.headers, body: wireBody))
            let receivedAt = store.configuration.wallClock()
            report.roundTrips += 1
            report.bytesSent += (wireBody?.count ?? 0) + parts.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
            report.bytesReceived += reply.body.count + reply.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
            let response = ResponseParts(status: reply.status, headers: reply.headers)
            let plain: [UInt8]
            do {
                plain = try BodyEncoding.decode(reply.body, encodings: response.values("content-encoding"), maximumBytes: 64 << 20)
            } catch {
                throw SyncError(.untrustedResponse, "an answer from the server could not be decoded and was discarded")
            }
            let trusted = keys ?? (try? EnrolResponse(body: plain)).map { r in
                Dictionary(uniqueKeysWithValues: r.serverKeys.compactMap { k in
                    Base64URL.decode(k.publicKey).flatMap { try? Curve25519.Signing.PublicKey(rawRepresentation: $0) }.map { (k.keyID, $0) }
                })
            } ?? [:]
            let created = try verify(response, body: reply.body, answering: parts, keys: trusted, enrolling: keys == nil)
            if let created { try learnOffset(serverCreated: created, receivedAt: receivedAt) }
            if reply.status < 400 { return (reply.status, plain, response) }
            guard let problem = Problem(body: plain) else {
                throw SyncError(reply.status >= 500 ? .transport : .refused, "the server answered \(reply.status)", status: reply.status)
            }
            switch problem.type {
            case .clockSkew where attempt == 0 && created != nil:
                if let serverTime = problem.extensions["serverTime"]?.intValue {
                    try store.setClockOffset(serverTime - Int64(receivedAt))
                }
                continue
            case .clockSkew where attempt < 2:
                // The clock still cannot be agreed on: sign with a server nonce instead.
                challenge = try await fetchChallenge(server, keys: keys, report: &report)
                continue
            case .nodeRevoked:
                try store.purgeAllData()
                try store.setMeta("sync.revoked", "1")
                logger.warning("node revoked; local data purged", metadata: ["sync.node": "\(store.identity.node)"])
                throw SyncError(.revoked, "this laptop was revoked by an administrator; its data was removed from it")
            default:
                throw SyncError(
                    problem.status >= 500 || problem.type == .rateLimited ? .transport : .refused,
                    "\(problem.type.code): \(problem.detail ?? problem.type.title)", problem: problem.type.code,
                    reason: problem.extensions["reason"]?.stringValue, status: reply.status)
            }
        }
        throw SyncError(.clock, "the server still finds this laptop's clock wrong; check the date and time settings")
    }

    /// Asks the server for a single-use nonce to sign with whatever this
    /// laptop's clock says (the clock-free fallback).
    func fetchChallenge(
        _ server: ServerURL, keys: [String: Curve25519.Signing.PublicKey]?, report: inout SyncReport
    ) async throws -> String {
        let parts = RequestParts(method: "POST", authority: server.authority, path: server.path + "/v1/auth/challenge")
        let reply = try await transport.send(
            TransportRequest(url: server.base + "/v1/auth/challenge", method: "POST", headers: [], body: nil))
        report.roundTrips += 1
        if let keys {
            let response = ResponseParts(status: reply.status, headers: reply.headers)
            do {
                let s = try SignatureVerifier.select(in: reply.headers, tag: SigningProfile.responseTag)
                try SignatureVerifier.checkResponseProfile(s, encoded: !response.values("content-encoding").isEmpty, boundToSignature: false)
                guard let key = s.parameters.keyID.flatMap({ keys[$0] }) else { throw SignatureError(.badSignature, "unknown key") }
                try SignatureVerifier.verify(s, response: response, body: reply.body, answering: parts, key: key)
            } catch {
                throw SyncError(.untrustedResponse, "the server's challenge was not properly signed and was discarded")
            }
        }
        guard reply.status == 200,
            let plain = try? BodyEncoding.decode(reply.body, encodings: reply.headers.filter { $0.name == "content-encoding" }.map(\.value), maximumBytes: 1 << 16),
            let nonce = (try? JSONValue(parsing: plain))?["nonce"]?.stringValue
        else { throw SyncError(.clock, "the server gave no clock-free challenge; check this laptop's date and time") }
        return nonce
    }

    /// Verifies an answer's signature; returns its `created` when trusted.
    /// At enrolment a refusal may come before any key is known: it is then
    /// read but not trusted for the clock.
    func verify(
        _ response: ResponseParts, body: [UInt8], answering request: RequestParts,
        keys: [String: Curve25519.Signing.PublicKey], enrolling: Bool
    ) throws -> Int64? {
        do {
            let s = try SignatureVerifier.select(in: response.headers, tag: SigningProfile.responseTag)
            try SignatureVerifier.checkResponseProfile(s, encoded: !response.values("content-encoding").isEmpty)
            guard let keyID = s.parameters.keyID, let key = keys[keyID] else {
                if enrolling, response.status >= 400 { return nil }
                throw SignatureError(.badSignature, "signed by an unknown key")
            }
            try SignatureVerifier.verify(s, response: response, body: body, answering: request, key: key)
            return s.parameters.created
        } catch let e as SignatureError {
            logger.warning("discarded an untrusted answer", metadata: ["signature.error": "\(e.code)"])
            throw SyncError(.untrustedResponse, "an answer from the server was not properly signed and was discarded")
        }
    }

    /// Updates the offset from a trusted answer when it is off by more than
    /// the second `created` is rounded to.
    func learnOffset(serverCreated: Int64, receivedAt: UInt64) throws {
        let candidate = serverCreated * 1000 + 500 - Int64(receivedAt)
        if abs(candidate - store.clockOffset) > 1_500 { try store.setClockOffset(candidate) }
    }
}

/// A server's base URL, checked: `https://`, or `http://` to this machine only.
struct ServerURL {
    let base: String
    let authority: String
    let path: String

    init(_ text: String) throws {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(),
            scheme == "http" || scheme == "https"
        else { throw SyncError(.insecureURL, "'\(text)' is not an http(s) URL") }
        if scheme == "http", !["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) {
            throw SyncError(.insecureURL, "plain http:// is only allowed to this machine; use https://")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let hostPart = host.contains(":") ? "[\(host)]" : host
        authority = url.port.map { $0 == defaultPort ? hostPart : "\(hostPart):\($0)" } ?? hostPart
        var p = url.path
        while p.hasSuffix("/") { p.removeLast() }
        path = p
        base = "\(scheme)://\(authority)\(p)"
    }
}
