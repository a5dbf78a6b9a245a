/// How a field merges: the rule that reads a slot's current values.
///
/// Every kind is built on the same replicated state (``RecordState``), so
/// each inherits its laws — commutative, associative, idempotent merge —
/// and differs only in how it reads current values and which writes local
/// input may make.
public enum FieldKind: String, Hashable, Sendable, CaseIterable {
    /// Last-writer-wins register. Each write names the values it saw
    /// (`pred`); values no write has seen are concurrent, the greatest
    /// ``Stamp`` wins, and the others are its *conflict*, shown until a write
    /// that saw them all resolves it. A clear concurrent with a write loses.
    case lww
    /// First-writer-wins (write-once) value: the write with the *least*
    /// stamp wins, and local input cannot overwrite it; so a later edit never
    /// moves a registration down a waitlist.
    case writeOnce
    /// Add-wins set of strings. An element is present while it has a value
    /// no removal saw: a removal concurrent with an add loses.
    case awSet
    /// Add-wins map whose entries are registers (or flags, by
    /// ``FieldSpec/entryKind``). Removing an entry concurrent with an edit of
    /// it keeps the entry with the edit: this is intended (a counsellor's
    /// level edit is never silently dropped).
    case awMap
    /// Counter: the sum of all increments, each counted once.
    case counter
    /// Enable-wins flag: `true` if any current value is `true` (session
    /// cancellation: cancel wins over a concurrent un-cancel).
    case enableWins
    /// Disable-wins flag: `false` if any current value is `false` (consent:
    /// a withdrawal wins over a concurrent grant).
    case disableWins
    /// Append-only log: entries are never edited; an entry can be redacted,
    /// which erases its content on every replica and leaves a marker.
    case log
    /// Collaborative text. Until character-level merging ships, a text
    /// field behaves as a register: concurrent edits are kept side by side
    /// as a conflict, so no keystroke is lost; later versions add
    /// character operations, which older versions store and relay.
    case text
}

/// The personal-data class of a field, which decides what erasure must
/// reach and what may never be logged.
public enum PersonalDataClass: String, Hashable, Sendable, CaseIterable {
    /// Not personal.
    case p0 = "P0"
    /// Personal (identity, contact).
    case p1 = "P1"
    /// Sensitive (health, disability status).
    case p2 = "P2"
    /// Free text, treated as sensitive.
    case pf = "PF"

    /// Whether values of this class must never appear in logs or errors.
    public var isPersonal: Bool { self != .p0 }
}
