import Crypto
import Foundation
import Logging
import NavetteCore
import NavetteStore
import NavetteWire
import Synchronization

extension SyncServer {
    /// The answer every signature failure gets, whatever its cause: an
    /// unknown key and a bad signature are indistinguishable (no oracle).
    static let unauthorized = Problem(.unauthorized, "the request is not signed by an enrolled node")

    /// Verifies a node's request, cheap checks first: signature fields and
    /// profile, key lookup, time window, replay cache, digest, signature,
    /// node status; then records the nonce.
    ///
    /// - Returns: the node that signed.
    /// - Throws: ``Problem``.
    func authenticate(_ request: IncomingRequest, hasBody: Bool) async throws -> NodeRecord {
        let p = request.parts
        let signature = try selectSignature(p, hasBody: hasBody)
        // The node and whether the nonce is a challenge, in one read.
        var found: (node: NodeRecord?, isChallenge: Bool) = (nil, false)
        if let id = signature.parameters.keyID.flatMap(NodeID.init) {
            found = try await shared.node(id, challenge: signature.parameters.nonce!, now: nowMillis)
        }
        guard let keyID = signature.parameters.keyID, let node = found.node,
            let keyBytes = Base64URL.decode(node.publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        else {
            logger.notice("refused request", metadata: ["signature.error": "unknown-key"])
            throw Self.unauthorized
        }
        let nodeID = node.id
        let challenged = found.isChallenge
        if !challenged { try await checkTime(signature.parameters, keyID: keyID) }
        try verify(signature, request: request, hasBody: hasBody, key: key, keyID: keyID)
        guard node.status == .active else {
            logger.notice("refused request", metadata: ["signature.error": "node-revoked", "sync.node": "\(nodeID)"])
            throw Problem(.nodeRevoked, "this laptop was revoked by an administrator; it must stop syncing")
        }
        try rateLimit(nodeID)
        let skew = (signature.parameters.created ?? 0) * 1000 - Int64(nowMillis)
        if challenged {
            try await consumeNonce(signature.parameters, challenged: true)
            try await shared.touch(nodeID, at: nowMillis, clockSkew: skew)
        } else {
            // The nonce and the node's last-seen time, in one durable write.
            guard try await shared.admit(
                keyID: keyID, nonce: signature.parameters.nonce!, expiresAt: nonceExpiry(signature.parameters),
                node: nodeID, clockSkew: skew, now: nowMillis)
            else {
                if configuration.plantedFaults.contains(.acceptReplayedNonces) { return node }
                throw replayed(keyID)
            }
        }
        return node
    }

    func selectSignature(_ p: RequestParts, hasBody: Bool) throws -> ReceivedSignature {
        do {
            let s = try SignatureVerifier.select(in: p.headers, tag: SigningProfile.requestTag)
            try SignatureVerifier.checkRequestProfile(
                s, hasBody: hasBody, encoded: !p.values("content-encoding").isEmpty)
            return s
        } catch let e as SignatureError {
            logger.notice("refused request", metadata: ["signature.error": "\(e.code)"])
            switch e.code {
            case .missingSignature, .missingComponent, .invalidParameters, .unsupportedAlgorithm:
                throw Self.unauthorized
            case .tooLarge:
                throw Problem(.headersTooLarge, "the signature fields exceed the profile's limits")
            default:
                throw Problem(.malformedSignature, e.message)
            }
        }
    }

    /// Refuses a request created outside the accepted window; the signed
    /// answer tells the server's time, so the node can correct its offset.
    ///
    /// A request outside the window whose nonce was already used (a used-up
    /// challenge, typically: its `created` may be anything) is a replay.
    func checkTime(_ params: SignatureParameters, keyID: String) async throws {
        let now = Int64(nowMillis / 1000)
        let created = params.created ?? 0
        let skewed = created > now + configuration.acceptedFuture || created < now - configuration.acceptedPast
        let expired = params.expires.map { $0 < now - 60 } ?? false
        if skewed || expired {
            if try await shared.hasNonce(keyID: keyID, nonce: params.nonce!) { throw replayed(keyID) }
            throw Problem(
                .clockSkew, "the request was created outside the accepted window; correct the clock offset and retry",
                extensions: ["serverTime": .int(Int64(nowMillis))])
        }
    }

    func verify(_ s: ReceivedSignature, request: IncomingRequest, hasBody: Bool, key: Curve25519.Signing.PublicKey, keyID: String)
        throws
    {
        do {
            try SignatureVerifier.verify(s, request: request.parts, body: hasBody ? request.body : nil, key: key)
        } catch let e as SignatureError {
            logger.notice("refused request", metadata: ["signature.error": "\(e.code)", "sync.node": "\(keyID)"])
            switch e.code {
            case .digestMismatch, .missingDigest: throw Problem(.digestMismatch)
            case .duplicateField: throw Problem(.malformedRequest, e.message)
            default: throw Self.unauthorized
            }
        }
    }

    /// Records the request's nonce, or uses up the server challenge it
    /// carries (a clock-free request: any `created` was accepted for it).
    func consumeNonce(_ params: SignatureParameters, challenged: Bool = false) async throws {
        if challenged {
            guard try await shared.consumeChallenge(params.nonce!) else {
                throw Problem(.replay, "this challenge was already used; ask for a new one")
            }
            // Remembered as used, so that a second use is a replay rather than a clock error.
            _ = try await shared.recordNonce(
                keyID: params.keyID!, nonce: params.nonce!, expiresAt: nowMillis + Self.challengeLifetime, now: nowMillis)
            return
        }
        guard try await shared.recordNonce(keyID: params.keyID!, nonce: params.nonce!, expiresAt: nonceExpiry(params), now: nowMillis)
        else { throw replayed(params.keyID!) }
    }

    /// When a nonce may leave the replay cache: once its request could no
    /// longer pass the time window.
    func nonceExpiry(_ params: SignatureParameters) -> UInt64 {
        (UInt64(max(0, params.created ?? 0)) + UInt64(configuration.acceptedPast) + 60) * 1000
    }

    func replayed(_ keyID: String) -> Problem {
        logger.notice("refused request", metadata: ["signature.error": "replay", "sync.node": "\(keyID)"])
        return Problem(.replay, "this request was already received; sign each attempt afresh")
    }

    func rateLimit(_ node: NodeID) throws {
        let minute = nowMillis / 60_000
        let limit = configuration.requestsPerMinute
        let allowed = rate.withLock { table -> Bool in
            var entry = table[node] ?? (minute, 0)
            if entry.minute != minute { entry = (minute, 0) }
            entry.count += 1
            table[node] = entry
            return entry.count <= limit
        }
        guard allowed else { throw Problem(.rateLimited, "more than \(limit) requests in a minute; slow down") }
    }
}
