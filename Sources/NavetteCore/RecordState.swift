/// A value held in a slot: the change that wrote it, its rank, and what it
/// wrote (`nil` for a tombstone left by ``Operation/remove``).
public struct SlotValue: Hashable, Sendable {
    public var id: ChangeID
    public var time: Timestamp
    public var value: JSONValue?

    public init(id: ChangeID, time: Timestamp, value: JSONValue?) {
        self.id = id
        self.time = time
        self.value = value
    }

    public var stamp: Stamp { Stamp(time: time, node: id.origin) }
    public var isTombstone: Bool { value == nil }
}

/// The replicated state of one slot: its current values and the ids that
/// writes have superseded.
public struct SlotState: Hashable, Sendable {
    /// Values no `pred` names (and no erasure covers), by id.
    public var values: [ChangeID: SlotValue] = [:]
    /// Ids some write named in its `pred`: such a value is never current,
    /// even when it arrives after the write that superseded it.
    public var superseded: Set<ChangeID> = []

    public init() {}

    /// Applies a write to this slot; `covered`: an erasure of the record
    /// takes the write's value away.
    mutating func apply(_ change: Change, covered: Bool) -> ApplyOutcome {
        for p in change.pred {
            superseded.insert(p)
            values[p] = nil
        }
        guard !superseded.contains(change.id) else { return .applied }
        if covered { return change.isPurged ? .applied : .purgedOnArrival }
        if !change.isPurged {
            let value: JSONValue? = change.operation == .remove ? nil : (change.value ?? .null)
            values[change.id] = SlotValue(id: change.id, time: change.time, value: value)
        }
        return .applied
    }

    /// The current values, ranked from the greatest stamp down.
    public var ranked: [SlotValue] { values.values.sorted { $0.stamp > $1.stamp } }
}

/// What applying a change did, for the store to act on.
public enum ApplyOutcome: Hashable, Sendable {
    /// The change took effect (or was already in effect: applying is
    /// idempotent).
    case applied
    /// The change's value is covered by an earlier erasure: keep the change
    /// only in purged form.
    case purgedOnArrival
    /// The record is erased: drop the change, store nothing of it.
    case dropped
    /// The change erased a field or slot: purge stored changes in `scope`
    /// ranked below `before`.
    case erasedScope(SlotKey, before: Stamp, wholeField: Bool)
    /// The change erased the whole record: purge every stored change of it.
    case erasedRecord
    /// The operation is unknown to this version: keep and relay it.
    case notUnderstood
}

/// The replicated state of one record, as a state-based CRDT.
///
/// The state is a function of the *set* of changes applied, whatever their
/// order or repetition; ``apply(_:)`` adds one change and ``merge(_:)`` adds
/// another replica's whole set. Both obey the laws every Navette replica
/// relies on:
///
/// - `a.merging(b) == b.merging(a)` (commutative),
/// - `a.merging(b).merging(c) == a.merging(b.merging(c))` (associative),
/// - `a.merging(a) == a` (idempotent),
///
/// and applying changes one by one in any order gives the state of merging
/// their singletons.
///
/// The rules, by operation:
///
/// - *Writes* (`set`, `remove`, `increment`, `append`) add a value to their
///   slot and supersede the values their `pred` names. A slot's current values
///   are those written and not superseded; how they read depends on the
///   field's ``FieldKind`` (see ``FieldView``).
/// - *Erasure* of a slot, a field or the record removes every value ranked
///   (by ``Stamp``) below the erasure, including values that arrive later.
///   Erasing the record is final: every later change to it is dropped.
/// - *Deletion* hides the record unless some node wrote to it beyond what the
///   deletion had seen: an edit concurrent with a deletion brings the record
///   back, whole.
public struct RecordState: Hashable, Sendable {
    /// The slots, by field and key.
    public var slots: [SlotKey: SlotState] = [:]
    /// Per node, the greatest counter of that node's slot writes applied.
    public var writers: [NodeID: UInt64] = [:]
    /// Per node, the greatest counter any deletion had seen.
    public var deletions: [NodeID: UInt64] = [:]
    /// Erasures of fields (key `nil`) and slots: the greatest stamp of each.
    public var erasures: [SlotKey: Stamp] = [:]
    /// The greatest stamp of a record erasure, once the record is erased.
    public var erasedAt: Stamp?

    public init() {}

    /// Whether the record was erased: it holds nothing and drops every change.
    public var isErased: Bool { erasedAt != nil }

    /// Whether the record is deleted: some deletion saw every write it holds.
    public var isDeleted: Bool {
        guard !deletions.isEmpty else { return false }
        return !writers.contains { node, counter in counter > deletions[node, default: 0] }
    }

    /// Whether an erasure covers a value of `slot` ranked at `stamp`.
    public func isCovered(_ slot: SlotKey, _ stamp: Stamp) -> Bool {
        if erasures.isEmpty { return false }
        if let e = erasures[SlotKey(field: slot.field)], stamp < e { return true }
        if slot.key != nil, let e = erasures[slot], stamp < e { return true }
        return false
    }

    /// Applies one change. Idempotent; order-independent with other changes.
    ///
    /// - Returns: what the store must do besides keeping the new state.
    /// - Complexity: O(p) for a write with p `pred` ids; O(n) in the values
    ///   of the record for an erasure.
    @discardableResult
    public mutating func apply(_ change: Change) -> ApplyOutcome {
        if let erasedAt {
            if change.operation == .erase, change.field == nil, change.stamp > erasedAt {
                self.erasedAt = change.stamp
            }
            return .dropped
        }
        switch change.operation {
        case .set, .remove, .increment, .append:
            guard let slotKey = change.slot else { return .notUnderstood }
            writers[change.id.origin] = max(writers[change.id.origin, default: 0], change.id.counter)
            let covered = isCovered(slotKey, change.stamp)
            // In place: a copy of the slot would copy its dictionaries.
            return slots[slotKey, default: SlotState()].apply(change, covered: covered)
        case .erase:
            guard let field = change.field else {
                self = RecordState()
                self.erasedAt = change.stamp
                return .erasedRecord
            }
            let scope = SlotKey(field: field, key: change.key)
            if let e = erasures[scope], e >= change.stamp {
                return .erasedScope(scope, before: e, wholeField: change.key == nil)
            }
            erasures[scope] = change.stamp
            for k in slots.keys where k.field == field && (scope.key == nil || k.key == scope.key) {
                slots[k]!.values = slots[k]!.values.filter { !isCovered(k, $0.value.stamp) }
            }
            return .erasedScope(scope, before: change.stamp, wholeField: change.key == nil)
        case .delete:
            for (node, counter) in change.seen {
                deletions[node] = max(deletions[node, default: 0], counter)
            }
            return .applied
        case .other:
            return .notUnderstood
        }
    }

    /// Adds everything `other` holds.
    ///
    /// - Complexity: O(n + m) in the values and ids of both states.
    public mutating func merge(_ other: RecordState) {
        if isErased || other.isErased {
            let e = [erasedAt, other.erasedAt].compactMap { $0 }.max()!
            self = RecordState()
            self.erasedAt = e
            return
        }
        writers.merge(other.writers, uniquingKeysWith: max)
        deletions.merge(other.deletions, uniquingKeysWith: max)
        erasures.merge(other.erasures, uniquingKeysWith: max)
        for (key, theirs) in other.slots {
            var mine = slots[key, default: SlotState()]
            mine.superseded.formUnion(theirs.superseded)
            mine.values.merge(theirs.values) { a, _ in a }
            slots[key] = mine
        }
        for key in Array(slots.keys) {
            let superseded = slots[key]!.superseded
            slots[key]!.values = slots[key]!.values.filter {
                !superseded.contains($0.key) && !isCovered(key, $0.value.stamp)
            }
        }
    }

    /// This state merged with `other`. See ``merge(_:)``.
    public func merging(_ other: RecordState) -> RecordState {
        var copy = self
        copy.merge(other)
        return copy
    }

    /// The current values of a slot, ranked from the greatest stamp down.
    public func currentValues(_ slot: SlotKey) -> [SlotValue] {
        slots[slot]?.ranked ?? []
    }

    /// The ids of a slot's current values: the `pred` of a write that has
    /// seen them all.
    public func currentIDs(_ slot: SlotKey) -> [ChangeID] {
        (slots[slot]?.values.keys).map { Array($0).sorted() } ?? []
    }

    /// The keys of `field`'s slots that hold at least one current value.
    public func keys(ofField field: String) -> [String] {
        slots.compactMap { k, v in k.field == field && k.key != nil && !v.values.isEmpty ? k.key : nil }
            .sorted(by: JSONValue.utf8Less)
    }

    /// The fields that hold slots, sorted.
    public var fieldNames: [String] {
        Array(Set(slots.keys.map(\.field))).sorted(by: JSONValue.utf8Less)
    }

    #if NAVETTE_INTERNAL_CHECKS
    /// Checks the invariants: no current value is superseded or covered, and
    /// an erased record holds nothing.
    public func _checkInvariants() {
        if isErased {
            precondition(slots.isEmpty && writers.isEmpty && erasures.isEmpty, "an erased record holds data")
        }
        for (key, slot) in slots {
            for (id, v) in slot.values {
                precondition(id == v.id, "a slot value is filed under another id")
                precondition(!slot.superseded.contains(id), "a superseded value is current")
                precondition(!isCovered(key, v.stamp), "an erased value is current")
            }
        }
    }
    #endif
}
