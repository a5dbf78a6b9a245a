/// Seeded mutations of valid inputs, for fuzzing decoders: byte flips,
/// insertions, deletions, repeated and spliced chunks, and JSON-aware
/// changes (huge numbers, deep nesting, long strings, broken escapes).
///
/// ```swift
/// var rng = SplitMix64(seed: seed)
/// let input = Mutator.mutate(validBody, using: &rng)   // replays from the seed
/// ```
public enum Mutator {
    /// Tokens that stress a JSON reader when spliced in.
    static let jsonTokens: [String] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\u0000", "null", "true", "false", "-0", "1e999",
        "99999999999999999999999", "-9223372036854775809", "0.0000001", "NaN", "Infinity", "\u{FEFF}", "\u{0}",
        "\"op\":\"set\"", "\"schemaVersion\":2", "\"changes\":[]", "\"id\":\"x\"", "\"time\":\"ffffffffffffffff\"",
    ]

    /// One to four mutations of `input`.
    public static func mutate(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<rng.int(in: 1...4) { bytes = once(bytes, using: &rng) }
        return bytes
    }

    static func once(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let at = b.isEmpty ? 0 : rng.int(in: 0..<b.count)
        switch rng.int(in: 0..<10) {
        case 0 where !b.isEmpty:
            b[at] ^= UInt8(1 << rng.int(in: 0..<8))
        case 1 where !b.isEmpty:
            b[at] = UInt8(truncatingIfNeeded: rng.next())
        case 2:
            b.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
        case 3 where !b.isEmpty:
            b.removeSubrange(at..<min(b.count, at + rng.int(in: 1...16)))
        case 4 where !b.isEmpty:
            let end = min(b.count, at + rng.int(in: 1...64))
            b.insert(contentsOf: Array(b[at..<end]), at: end)
        case 5:
            b.insert(contentsOf: Array(rng.pick(jsonTokens).utf8), at: at)
        case 6:
            let depth = rng.int(in: 20...200)
            b.insert(contentsOf: Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8), at: at)
        case 7:
            b.insert(contentsOf: Array(("\"" + String(repeating: "x", count: rng.int(in: 100...70_000)) + "\"").utf8), at: at)
        case 8 where !b.isEmpty:
            b = Array(b[0..<at])
        default:
            // Replace a digit run with a huge number, or a string's content with another's.
            if let i = b.indices.dropFirst(at).first(where: { b[$0] >= 0x30 && b[$0] <= 0x39 }) {
                b.insert(contentsOf: Array("9999999999999999999999".utf8), at: i)
            } else {
                b.append(contentsOf: Array(rng.pick(jsonTokens).utf8))
            }
        }
        return b
    }

    /// A random string for a header field value: printable ASCII with the
    /// structured-field punctuation, sometimes very long.
    public static func headerValue(using rng: inout SplitMix64) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789=;:,()\"*@-_. /+?")
        let count = rng.chance(0.05) ? rng.int(in: 2_000...20_000) : rng.int(in: 0...120)
        return String((0..<count).map { _ in rng.pick(alphabet) })
    }
}
