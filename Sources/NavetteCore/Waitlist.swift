/// The deterministic split of a session's registrations into confirmed
/// seats and a waitlist.
///
/// Capacity cannot be enforced between offline laptops, so every replica
/// derives the same answer from the same data: the active registrations
/// ranked by when they were first made (the ``Stamp`` of the write-once
/// `registered` value: time, then node), the first `capacity` confirmed and
/// the rest waitlisted in that order. Overbooking is shown, not forbidden.
///
/// ```swift
/// let w = Waitlist(capacity: 1, registrations: [(id: "a", rank: s2), (id: "b", rank: s1)])
/// w.confirmed  // ["b"]
/// w.waitlisted // ["a"]
/// ```
public struct Waitlist: Hashable, Sendable {
    public var confirmed: [String]
    public var waitlisted: [String]

    /// Splits registrations, each given with its rank.
    ///
    /// - Complexity: O(n log n).
    public init(capacity: Int, registrations: [(id: String, rank: Stamp)]) {
        let ranked = registrations.sorted {
            $0.rank != $1.rank ? $0.rank < $1.rank : JSONValue.utf8Less($0.id, $1.id)
        }
        let n = max(0, min(capacity, ranked.count))
        self.confirmed = ranked[..<n].map(\.id)
        self.waitlisted = ranked[n...].map(\.id)
    }

    /// How many registrations exceed the capacity.
    public var overbooked: Int { waitlisted.count }
}
