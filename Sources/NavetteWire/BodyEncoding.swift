import CompressNIO
import NIOCore
import Synchronization

/// How bodies travel: gzip (`Content-Encoding: gzip`) when it saves bytes.
///
/// The `Content-Digest` covers the bytes exactly as sent — compressed — and
/// the signature covers `content-encoding`, so nothing may re-encode a body
/// in transit. The receiver checks the digest first, then inflates with a
/// size limit (no decompression bomb), then parses.
public enum BodyEncoding {
    /// The token of the only encoding used.
    public static let gzip = "gzip"
    /// Bodies smaller than this travel uncompressed.
    public static let threshold = 256

    /// `body` compressed, or `nil` when it is too small to gain.
    public static func compress(_ body: [UInt8]) -> [UInt8]? {
        guard body.count >= threshold, let out = gzipped(body), out.count < body.count else { return nil }
        return out
    }

    /// `body` as a gzip stream, whatever its size (`nil` if the compressor
    /// fails): what a peer may send even when it gains nothing.
    public static func gzipped(_ body: [UInt8]) -> [UInt8]? {
        guard let compressor = Compressors.take() else { return nil }
        var input = ByteBuffer(bytes: body)
        var output = ByteBufferAllocator().buffer(capacity: compressor.maxSize(from: input))
        do {
            try compressor.deflate(from: &input, to: &output, flush: .finish)
        } catch {
            return nil  // the compressor is dropped, not reused
        }
        Compressors.give(compressor)
        return Array(output.readableBytesView)
    }

    /// Gzip compressors kept for reuse. Making one allocates zlib's state
    /// (a few hundred kilobytes) and dropping it frees it: by `perf`, 3% of
    /// the server's CPU when every answer made its own. A reset compressor
    /// writes the same bytes as a new one.
    enum Compressors {
        private struct Kept: @unchecked Sendable {
            // Each compressor is used by one caller at a time: taken out of
            // the list, used, reset, put back.
            var compressors: [ZlibCompressor] = []
        }
        private static let kept = Mutex(Kept())
        /// At most as many as answers are compressed at once, in practice.
        static let limit = 8

        static func take() -> ZlibCompressor? {
            if let reused = kept.withLock({ $0.compressors.popLast() }) { return reused }
            return try? ZlibCompressor(algorithm: .gzip)
        }

        static func give(_ compressor: ZlibCompressor) {
            guard (try? compressor.reset()) != nil else { return }
            kept.withLock { if $0.compressors.count < limit { $0.compressors.append(compressor) } }
        }
    }

    /// Why a body could not be decoded.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Decodes a received body by its `Content-Encoding` field lines.
    ///
    /// - Throws: ``Failure`` for an unknown encoding, corrupt data, or a body
    ///   that inflates beyond `maximumBytes`.
    public static func decode(_ body: [UInt8], encodings: [String], maximumBytes: Int) throws -> [UInt8] {
        let tokens = encodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: " \t").lowercased() }
        switch tokens {
        case []: return body
        case [gzip]:
            var buffer = ByteBuffer(bytes: body)
            do {
                let inflated = try buffer.decompress(with: .gzip(), maxSize: maximumBytes)
                return Array(inflated.readableBytesView)
            } catch {
                throw Failure(description: "the gzip body is corrupt or inflates beyond \(maximumBytes) bytes")
            }
        default:
            throw Failure(description: "only Content-Encoding: gzip is accepted")
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
