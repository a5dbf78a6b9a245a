import NavetteWire
import Testing

struct BodyEncodingTests {
    @Test func gzipRoundTripsAndSmallBodiesStayPlain() throws {
        let body = Array(String(repeating: #"{"collection":"seeker","field":"contact.phone"}"#, count: 40).utf8)
        let compressed = try #require(BodyEncoding.compress(body))
        #expect(compressed.count < body.count / 5)
        #expect(try BodyEncoding.decode(compressed, encodings: ["gzip"], maximumBytes: 1 << 20) == body)
        #expect(BodyEncoding.compress(Array("{}".utf8)) == nil)
        #expect(try BodyEncoding.decode(body, encodings: [], maximumBytes: 10) == body)
    }

    @Test func bombsCorruptDataAndUnknownEncodingsAreRefused() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let bomb = try #require(BodyEncoding.compress(zeros))
        #expect(throws: BodyEncoding.Failure.self) { try BodyEncoding.decode(bomb, encodings: ["gzip"], maximumBytes: 64 << 10) }
        #expect(throws: BodyEncoding.Failure.self) { try BodyEncoding.decode([1, 2, 3], encodings: ["gzip"], maximumBytes: 1 << 20) }
        #expect(throws: BodyEncoding.Failure.self) { try BodyEncoding.decode(zeros, encodings: ["br"], maximumBytes: 1 << 20) }
    }
}
