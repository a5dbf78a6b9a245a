import Crypto
import Foundation
import NavetteTesting
import Testing

@testable import NavetteWire

/// The signature fields' fast reader and writer answer exactly what the
/// RFC 8941 parser and serializer answer: the same signature or the same
/// refusal for any field, the same bytes for any parameters.
struct ProfileFieldReaderTests {
    let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32))

    /// Every shape of message the profile's signers write.
    func signedMessages() throws -> [[HeaderField]] {
        let signer = MessageSigner(key: key, keyID: "00000000000000a1")
        var push = RequestParts(
            method: "POST", authority: "sync.example.org", path: "/v1/sync/push",
            headers: [HeaderField("content-type", "application/json"), HeaderField("content-encoding", "gzip")])
        try signer.sign(&push, body: [1, 2, 3], created: 1_767_600_000, nonce: "AAAAAAAAAAAAAAAAAAAAAA")
        var pull = RequestParts(method: "GET", authority: "sync.example.org", path: "/v1/sync/pull", query: "after=12")
        try signer.sign(&pull, body: nil, created: 1_767_600_000, nonce: "BBBBBBBBBBBBBBBBBBBBBB")
        var answer = ResponseParts(status: 200, headers: [HeaderField("content-type", "application/json")])
        try signer.sign(&answer, body: [4], answering: push, created: 1_767_600_001, nonce: "CCCCCCCCCCCCCCCCCCCCCC")
        var unbound = ResponseParts(status: 401, headers: [HeaderField("content-type", "application/problem+json")])
        try signer.sign(&unbound, body: [5], answering: RequestParts(method: "GET", authority: "a", path: "/"), created: 1, nonce: "DDDDDDDDDDDDDDDDDDDDDD")
        return [push.headers, pull.headers, answer.headers, unbound.headers]
    }

    enum Outcome: Equatable {
        case accepted(ReceivedSignature)
        case refused(SignatureError)
        case failed(String)
    }

    /// What `select` answers with the fast reader and with the full parser
    /// alone: the signature, or the refusal with its code and message.
    func bothWays(_ headers: [HeaderField], _ selection: SignatureVerifier.Selection) -> (fast: Outcome, full: Outcome) {
        func run(_ fast: Bool) -> Outcome {
            do {
                return .accepted(try SignatureVerifier.select(in: headers, matching: selection, fastPath: fast))
            } catch let error as SignatureError {
                return .refused(error)
            } catch {
                return .failed("\(error)")
            }
        }
        return (run(true), run(false))
    }

    @Test func theSignersFormIsReadFastAndAsTheParserReadsIt() throws {
        for headers in try signedMessages() {
            let input = headers.first { $0.name == "signature-input" }!.value
            let signature = headers.first { $0.name == "signature" }!.value
            // The fast reader takes the signers' own form (else it would be dead code).
            #expect(ProfileFieldReader.read(input: input, signature: signature) != nil, "\(input)")
            for selection in [SignatureVerifier.Selection.tag(SigningProfile.requestTag), .tag(SigningProfile.responseTag), .label("sync"), .label("other")] {
                let (fast, full) = bothWays(headers, selection)
                #expect(fast == full)
            }
        }
    }

    @Test func mutatedFieldsAreAnsweredAsTheParserAnswersThem() throws {
        let seed = testSeed(0x51C_0001)
        let count = environmentInt("NAVETTE_FUZZ_COUNT", default: 20_000)
        print("signature fields: \(count) mutations from seed \(seed) (NAVETTE_SEED replays it)")
        var rng = SplitMix64(seed: seed)
        let messages = try signedMessages()
        // Bytes that matter to RFC 8941: delimiters, escapes, spaces, case,
        // digits, a decimal point, other bare items' first bytes, non-ASCII.
        let alphabet: [String] = [
            " ", "\t", ",", ";", "=", "(", ")", "\"", "\\", ":", "?", "*", "@", "%", "-", ".", "0", "9", "A", "z",
            "r", "e", "q", "é", "\u{7F}", "\u{1}", "?1", ";req", ";req=?0", ";tag=\"x\"", ", other=:AAAA:", ", sync=:AAAA:",
            ";created=1.5", ";created=1234567890123456", ";created=-0", ";alg=\"hmac-sha256\"", ";x", "sync", "SYNC",
        ]
        var taken = 0
        for n in 0..<count {
            var headers = rng.pick(messages)
            let target = rng.chance(0.6) ? "signature-input" : "signature"
            let at = headers.firstIndex { $0.name == target }!
            var bytes = Array(headers[at].value.unicodeScalars)
            for _ in 0..<rng.int(in: 1...3) {
                let position = rng.int(in: 0...bytes.count)
                switch rng.int(in: 0..<4) {
                case 0: bytes.insert(contentsOf: rng.pick(alphabet).unicodeScalars, at: position)
                case 1: if position < bytes.count { bytes.remove(at: position) }
                case 2: if position < bytes.count { bytes[position] = rng.pick(alphabet).unicodeScalars.first! }
                default:
                    // Repeat a slice: a second member, a repeated parameter.
                    let end = min(bytes.count, position + rng.int(in: 1...40))
                    bytes.insert(contentsOf: bytes[position..<end], at: end)
                }
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: bytes)
            headers[at].value = String(view)
            if rng.chance(0.05) { headers.append(HeaderField(target, rng.pick(alphabet))) }
            let input = headers.filter { $0.name == "signature-input" }.map(\.value).joined(separator: ", ")
            let signature = headers.filter { $0.name == "signature" }.map(\.value).joined(separator: ", ")
            if ProfileFieldReader.read(input: input, signature: signature) != nil { taken += 1 }
            let selection: SignatureVerifier.Selection = rng.chance(0.8) ? .tag(rng.pick([SigningProfile.requestTag, SigningProfile.responseTag])) : .label("sync")
            let (fast, full) = bothWays(headers, selection)
            #expect(fast == full, "mutation \(n): \(input) / \(signature); NAVETTE_SEED=\(seed)")
        }
        print("signature fields: the fast reader took \(taken) of \(count)")
        // Both ways were compared on inputs the fast reader took, not only on fallbacks.
        #expect(taken > count / 20)
    }

    @Test func theWriterWritesTheSerializersBytes() throws {
        let seed = testSeed(0x51C_0002)
        print("signature parameters: from seed \(seed) (NAVETTE_SEED replays it)")
        var rng = SplitMix64(seed: seed)
        // Half the cases hold only what RFC 8941 can carry (the writer's
        // work), half also what it cannot (the serializer's refusals).
        let printable: [String] = ["a", "Z", "0", " ", "\"", "\\", "~", "-", ";"]
        let hostile = printable + ["é", "\u{1F}", "\u{7F}", "\t"]
        var clean = true
        func text() -> String { (0..<rng.int(in: 0...6)).map { _ in rng.pick(clean ? printable : hostile) }.joined() }
        func integer() -> Int64 {
            let valid: [Int64] = [0, 1, -1, 1_767_600_000, 999_999_999_999_999, -999_999_999_999_999]
            return rng.pick(clean ? valid : valid + [1_000_000_000_000_000, Int64.min, Int64.max])
        }
        var written = 0
        var cleanCases = 0
        for n in 0..<5_000 {
            clean = rng.chance(0.5)
            var p = SignatureParameters()
            if rng.chance(0.8) { p.created = integer() }
            if rng.chance(0.3) { p.expires = integer() }
            if rng.chance(0.8) { p.nonce = text() }
            if rng.chance(0.8) { p.keyID = text() }
            if rng.chance(0.5) { p.algorithm = text() }
            if rng.chance(0.8) { p.tag = text() }
            if rng.chance(0.3) {
                // Sometimes naming one twice, which only the serializer handles.
                p.order = (0..<rng.int(in: 1...8)).map { _ in rng.pick(["created", "expires", "nonce", "keyid", "alg", "tag", "other"]) }
            }
            if clean && Set(p.order).count == p.order.count { cleanCases += 1 }
            let components = (0..<rng.int(in: 0...9)).map { _ in
                CoveredComponent(rng.chance(0.5) ? rng.pick(["@method", "@path", "content-digest", "signature-input"]) : text(), fromRequest: rng.chance(0.3))
            }
            let library = try? p.serializedByLibrary(covering: components)
            let direct = p.written(covering: components)
            if let direct {
                written += 1
                #expect(direct == library, "case \(n); NAVETTE_SEED=\(seed)")
            }
            #expect((try? p.serialized(covering: components)) == library, "case \(n); NAVETTE_SEED=\(seed)")
        }
        // Whatever RFC 8941 can carry is written directly.
        #expect(written >= cleanCases && cleanCases > 1_000, "\(written) written, \(cleanCases) clean")
        // The signers' own parameters are always written directly.
        let signer = SignatureParameters(created: 1_767_600_000, keyID: "00000000000000a1", algorithm: "ed25519", nonce: "AAAAAAAAAAAAAAAAAAAAAA", tag: SigningProfile.requestTag)
        #expect(signer.written(covering: SigningProfile.responseComponents(encoded: true)) != nil)
    }
}
