import Crypto
import Foundation
import Logging
import Synchronization
import NavetteCore
import NavetteStore
import NavetteWire

extension SyncServer {
    /// The collections a node may write; the others are reference data the
    /// server writes.
    static let writableCollections: Set<String> = ["seeker", "workshop", "workshopSession", "registration"]

    /// `POST /v1/sync/push`: applies what the node may write, refuses the
    /// rest by id. A batch already answered gets the same answer again.
    func push(_ request: IncomingRequest, node: NodeRecord) async throws -> OutgoingResponse {
        let push: PushRequest
        do {
            push = try PushRequest(body: try decodedBody(request))
        } catch let e as MessageError {
            throw Problem(e.isVersionMismatch ? .upgradeRequired : .malformedRequest, e.message)
        }
        received.withLock { $0 += push.changes.count }
        metrics.pushed(push.changes.count)
        if let previous = try await shared.batchResponse(node: node.id, batch: push.batch) {
            return respond(200, previous, to: request.parts)
        }
        let (accepted, refused) = try await authorise(push.changes, node: node)
        _ = try await records.apply(accepted)
        for r in refused { metrics.refused(r.reason) }
        // Records the node created itself are on it: they count as held, so
        // they are not sent back to it — and, if they are not in its view
        // (a file created for another counsellor), its next pull drops them.
        let (created, logSequence) = try await records.afterPush(
            by: node.id, among: Set(accepted.map { RecordRef($0.collection, $0.record) }))
        let body = PushResponse(batch: push.batch, accepted: accepted.count, refused: refused).body
        try await shared.recordPush(
            node: node.id, batch: push.batch, response: body, refused: refused.count, created: created,
            logSequence: logSequence, now: nowMillis)
        logger.info(
            "push", metadata: ["sync.node": "\(node.id)", "sync.accepted": "\(accepted.count)", "sync.refused": "\(refused.count)"])
        return respond(200, body, to: request.parts)
    }

    /// Splits a batch into what `node` may write and what it may not.
    ///
    /// A node writes only its own changes, only to the writable collections,
    /// only to records of its agency (as the server knows them, or as the
    /// batch creates them), never moves a record to another agency, and
    /// never stamps a change far ahead of the server's clock.
    func authorise(_ changes: [Change], node: NodeRecord) async throws -> ([Change], [RefusedChange]) {
        let refs = Set(changes.map { RecordRef($0.collection, $0.record) })
        let known = try await records.agencies(of: refs)
        var setInBatch: [RecordRef: String] = [:]
        // A record the server does not know yet belongs to the agency its
        // first change in the batch gives it (a later move is refused below).
        for c in changes where c.field == "agency" && c.operation == .set {
            let ref = RecordRef(c.collection, c.record)
            if setInBatch[ref] == nil, let a = c.value?.stringValue { setInBatch[ref] = a }
        }
        let horizon = nowMillis + configuration.changeFromFutureBound
        var accepted: [Change] = []
        var refused: [RefusedChange] = []
        for c in changes {
            let ref = RecordRef(c.collection, c.record)
            let reason: String?
            if c.id.origin != node.id {
                reason = "not-own-change"
            } else if !Self.writableCollections.contains(c.collection) {
                reason = "collection-not-writable"
            } else if c.field == "agency", c.operation == .remove || (c.operation == .set && c.value?.stringValue != node.agency) {
                reason = "agency-change-not-allowed"
            } else if let agency = known[ref] ?? setInBatch[ref], agency == node.agency {
                reason = c.time.wallMillis > horizon ? "change-from-future" : nil
            } else {
                reason = "outside-agency"
            }
            if let reason { refused.append(RefusedChange(id: c.id, reason: reason)) } else { accepted.append(c) }
        }
        return (accepted, refused)
    }

    /// `GET /v1/sync/pull?cursor=…&limit=…`: the changes the node may see
    /// after its cursor, never its own.
    func pull(_ request: IncomingRequest, node: NodeRecord) async throws -> OutgoingResponse {
        var cursorText: String?
        var bootstrap = false
        var limit = configuration.maximumPullChanges
        // A cursor has at most 512 bytes: a longer query is not one of ours.
        guard (request.parts.query ?? "").utf8.count <= Self.maximumQueryBytes else {
            throw Problem(.malformedRequest, "the query is longer than \(Self.maximumQueryBytes) bytes")
        }
        for pair in (request.parts.query ?? "").split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw Problem(.malformedRequest, "the query must be cursor=…&limit=…") }
            switch kv[0] {
            case "cursor": cursorText = kv[1]
            case "bootstrap":
                guard kv[1] == "1" else { throw Problem(.malformedRequest, "bootstrap must be 1") }
                bootstrap = true
            case "limit":
                guard let n = Int(kv[1]), (1...configuration.maximumPullChanges).contains(n) else {
                    throw Problem(.malformedRequest, "limit must be between 1 and \(configuration.maximumPullChanges)")
                }
                limit = n
            // The parameter is not repeated back: answers never echo what a request carried.
            default: throw Problem(.malformedRequest, "the query has a parameter other than cursor, bootstrap and limit")
            }
        }
        var after: Int64?
        var epoch: Int64?
        // Read before the view is: a view computed after a later write is
        // only ever newer than its generation.
        let bounds = try await records.pullBounds()
        if let cursorText {
            let cursor: Cursor
            do {
                cursor = try Cursor(cursorText, secret: cursorSecret, node: node.id, agency: node.agency)
            } catch Cursor.Failure.forged {
                throw Problem(.forbidden, "this cursor was not issued to this node")
            } catch {
                throw Problem(.malformedRequest, "the cursor is malformed")
            }
            guard cursor.incarnation == incarnation else {
                throw Problem(
                    .cursorExpired, "the server's store changed (restored from a backup); pull from the start and push again",
                    extensions: ["incarnation": .string(incarnation), "reason": "restored"])
            }
            guard cursor.sequence >= bounds.horizon else {
                throw Problem(
                    .cursorExpired, "the server no longer keeps history that old; pull again from snapshots",
                    extensions: ["reason": "compacted"])
            }
            after = cursor.sequence
            epoch = cursor.epoch
        }
        if bootstrap {
            guard cursorText == nil else { throw Problem(.malformedRequest, "a bootstrap pull has no cursor") }
            // The node starts again: it gets its whole view as snapshots, and the list to keep.
            try await shared.resetView(node.id)
        }
        let current = try await shared.confirmView(node.id, epoch: epoch)
        let held = try await shared.confirmedView(node.id)
        let view = try await view(for: node, generation: bounds.viewGeneration)
        let allEntering = view.filter { held[$0.key] != $0.value }
        // A file that becomes a stub is dropped, then comes back as the stub.
        let leaving = held.keys.filter { view[$0] == nil || (held[$0] == false && view[$0] == true) }
            .sorted { $0.description < $1.description }
        let entering = Dictionary(
            uniqueKeysWithValues: allEntering.sorted { $0.key.description < $1.key.description }.prefix(Self.snapshotsPerPage)
                .map { ($0.key, $0.value) })
        let start: Int64
        if let after { start = after } else { start = try await records.lastSequence() }
        let page = try await records.changes(
            after: start, limit: limit, view: view, skip: Set(allEntering.keys), excluding: node.id)
        var snapshots: [Snapshot] = []
        for (ref, stub) in entering.sorted(by: { $0.key.description < $1.key.description }) {
            if let state = try await records.snapshot(ref, stub: stub) {
                snapshots.append(Snapshot(collection: ref.collection, record: ref.id, state: state, stub: stub))
            }
        }
        metrics.pulled(page.changes.count)
        let nextEpoch = entering.isEmpty && leaving.isEmpty ? current : try await shared.sendView(node.id, entering: entering, leaving: leaving)
        let next = Cursor(incarnation: incarnation, sequence: page.lastSequence, epoch: nextEpoch)
            .encoded(secret: cursorSecret, node: node.id, agency: node.agency)
        let body = PullResponse(
            drops: leaving.map { ($0.collection, $0.id) }, snapshots: snapshots,
            view: bootstrap ? view.keys.sorted { $0.description < $1.description }.map { ($0.collection, $0.id) } : nil,
            changes: page.changes.map(\.change),
            // A page that changed the view asks for one more pull, whose cursor
            // confirms it: the server then knows what the node holds (and purged).
            cursor: next, more: page.more || allEntering.count > entering.count || !entering.isEmpty || !leaving.isEmpty
        ).body
        return respond(200, body, to: request.parts)
    }

    /// The records `node` may hold: computed again only when its view spec
    /// or the storage's view generation changed since the last time (a
    /// catch-up's pages, and pulls between edits that move no file, reuse it).
    ///
    /// - Parameter generation: the storage's view generation, read before
    ///   this call: a view computed after a later write is only ever newer
    ///   than its tag.
    func view(for node: NodeRecord, generation: Int64) async throws -> [RecordRef: Bool] {
        let spec = ViewSpec(agency: node.agency, counsellor: node.counsellor, agencyWide: node.agencyWide)
        if let hit = views.withLock({ cache -> [RecordRef: Bool]? in
            guard var entry = cache.entries[node.id], entry.spec == spec, entry.generation == generation else { return nil }
            cache.tick += 1
            entry.used = cache.tick
            cache.entries[node.id] = entry
            return entry.view
        }) {
            return hit
        }
        let view = try await records.view(spec)
        views.withLock { cache in
            if cache.entries[node.id] == nil, cache.entries.count >= configuration.cachedViews,
                let oldest = cache.entries.min(by: { $0.value.used < $1.value.used })?.key
            {
                cache.entries[oldest] = nil
            }
            cache.tick += 1
            cache.entries[node.id] = CachedView(spec: spec, generation: generation, view: view, used: cache.tick)
        }
        return view
    }

    /// The longest pull query accepted, in bytes.
    static let maximumQueryBytes = 1_024

    /// The most records a pull page brings in as snapshots.
    static let snapshotsPerPage = 100

    /// `POST /v1/enrol`: redeems a one-time code. The request is signed by
    /// the key it registers (proof of possession), with `keyid` = node id.
    func enrol(_ request: IncomingRequest) async throws -> OutgoingResponse {
        let enrol: EnrolRequest
        do {
            enrol = try EnrolRequest(body: try decodedBody(request))
        } catch let e as MessageError {
            throw Problem(e.isVersionMismatch ? .upgradeRequired : .malformedRequest, e.message)
        }
        guard let keyBytes = Base64URL.decode(enrol.publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        else { throw Problem(.malformedRequest, "publicKey is not a raw Ed25519 key in base64url") }
        let signature = try selectSignature(request.parts, hasBody: true)
        guard signature.parameters.keyID == enrol.node.description else { throw Self.unauthorized }
        let challenged = try await shared.isChallenge(signature.parameters.nonce!, now: nowMillis)
        if !challenged { try await checkTime(signature.parameters, keyID: enrol.node.description) }
        try verify(signature, request: request, hasBody: true, key: key, keyID: enrol.node.description)
        try await consumeNonce(signature.parameters, challenged: challenged)
        let node: NodeRecord
        do {
            node = try await shared.redeem(
                code: enrol.code, node: enrol.node, publicKey: enrol.publicKey, name: enrol.name, now: nowMillis)
        } catch let refusal as ServerRegistry.EnrolmentRefusal {
            logger.notice("refused enrolment", metadata: ["enrol.error": "\(refusal)"])
            throw Problem(.enrolmentRefused, "the code is unknown, used or expired; ask an administrator for a new one")
        }
        logger.info("enrolled", metadata: ["sync.node": "\(node.id)", "sync.agency": "\(node.agency)"])
        let body = EnrolResponse(node: node.id, agency: node.agency, counsellor: node.counsellor, serverKeys: keys.keys).body
        return respond(200, body, to: request.parts)
    }
}

extension SyncServer {
    /// How long a clock-free challenge stays valid.
    static let challengeLifetime: UInt64 = 120_000

    /// `POST /v1/auth/challenge`: a single-use server nonce for a node whose
    /// clock is too wrong to be trusted; a request signed with it is accepted
    /// whatever its `created` (RFC 9421 §5, `Accept-Signature`).
    func challenge(_ request: IncomingRequest) async throws -> OutgoingResponse {
        let expires = nowMillis + Self.challengeLifetime
        let nonce = Base64URL.nonce(bytes: 24)
        try await shared.issueChallenge(nonce, expiresAt: expires, now: nowMillis)
        let body = JSONValue.object(["nonce": .string(nonce), "expiresAt": .int(Int64(expires))]).canonicalBytes
        var out = respond(200, body, to: request.parts)
        let components = SigningProfile.requestComponents(hasBody: true).map(\.description).joined(separator: " ")
        out.parts.headers.append(
            HeaderField(
                "accept-signature",
                "\(SigningProfile.label)=(\(components));nonce=\"\(nonce)\";tag=\"\(SigningProfile.requestTag)\""))
        return out
    }
}
