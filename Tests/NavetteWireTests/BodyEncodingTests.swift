import CompressNIO
import NIOCore
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

    /// Compressors are reused: each body, whatever came before it (a larger
    /// one, or many at once from several tasks), is the gzip stream a new
    /// compressor writes.
    @Test func aReusedCompressorWritesWhatANewOneWrites() async throws {
        var seed: UInt64 = 0x5EED
        func body(_ n: Int) -> [UInt8] {
            (0..<n).map { i in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(ascii: "a") + UInt8(truncatingIfNeeded: (seed >> 60) + UInt64(i % 3))
            }
        }
        func fresh(_ b: [UInt8]) throws -> [UInt8] {
            var buffer = ByteBuffer(bytes: b)
            return Array(try buffer.compress(with: .gzip()).readableBytesView)
        }
        let bodies = [body(100_000), body(300), body(0), body(40_000), body(1)]
        for b in bodies + bodies {
            let reused = try #require(BodyEncoding.gzipped(b))
            #expect(reused == (try fresh(b)))
            #expect(try BodyEncoding.decode(reused, encodings: ["gzip"], maximumBytes: 1 << 20) == b)
        }
        let expected = try bodies.map(fresh)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for k in 0..<40 {
                group.addTask { BodyEncoding.gzipped(bodies[k % bodies.count]) == expected[k % bodies.count] }
            }
            for try await same in group { #expect(same) }
        }
    }

    @Test func bombsCorruptDataAndUnknownEncodingsAreRefused() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let bomb = try #require(BodyEncoding.compress(zeros))
        #expect(throws: BodyEncoding.Failure.self) { try BodyEncoding.decode(bomb, encodings: ["gzip"], maximumBytes: 64 << 10) }
        #expect(throws: BodyEncoding.Failure.self) { try BodyEncoding.decode([1, 2, 3], encodings: ["gzip"], maximumBytes: 1 << 20) }
        #expect(throws: BodyEncoding.Failure.self) { try BodyEncoding.decode(zeros, encodings: ["br"], maximumBytes: 1 << 20) }
    }
}
