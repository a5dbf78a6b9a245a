/// Compares two byte strings in time that depends only on their lengths,
/// never on where they differ: for digests, tokens, MACs and nonces.
///
/// Swift's `==` on `Data` or arrays returns at the first difference, which
/// leaks through timing how much of a secret an attacker guessed right.
///
/// ```swift
/// safeCompare(expectedDigest, receivedDigest)  // true or false, same time
/// ```
public func safeCompare(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
