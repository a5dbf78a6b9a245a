import Foundation
import GRDB
import NavetteCore

/// A record, by collection and id.
public struct RecordRef: Hashable, Sendable, CustomStringConvertible {
    public var collection: String
    public var id: String
    public init(_ collection: String, _ id: String) {
        self.collection = collection
        self.id = id
    }
    public var description: String { "\(collection)/\(id)" }
}

/// What applying a remote batch did.
public struct ApplySummary: Hashable, Sendable {
    /// Changes stored and applied (purged ones included).
    public var applied = 0
    /// Changes this store already held: ignored.
    public var duplicates = 0
    /// Changes for erased records: acknowledged, not stored.
    public var dropped = 0
    /// Changes stamped more than Δ ahead of this node's time.
    public var fromTheFuture = 0
    public init() {}
}

extension RecordStore {
    /// Makes and applies a counsellor's edits to one record, in one durable
    /// transaction.
    ///
    /// - Returns: the changes made, in order.
    /// - Throws: ``ValidationError`` (nothing is written), or a storage error.
    @discardableResult
    public func edit(_ collection: String, _ id: String, _ edits: [Edit]) throws -> [Change] {
        try perform([(RecordRef(collection, id), edits)])
    }

    /// Creates a record with a new random id and the given edits.
    ///
    /// - Returns: the new record's id.
    public func createRecord(_ collection: String, _ edits: [Edit]) throws -> String {
        var rng = SystemRandomNumberGenerator()
        let id = RecordKeys.random(using: &rng)
        try edit(collection, id, edits)
        return id
    }

    /// Makes and applies edits to several records in one durable transaction
    /// (one user action, such as erasing a seeker and their registrations).
    @discardableResult
    public func perform(_ actions: [(RecordRef, [Edit])]) throws -> [Change] {
        let wall = now()
        let (changes, erased) = try queue.writing { db -> ([Change], Bool) in
            var session = WriteSession(db: db, schema: configuration.schema, prepared: prepared)
            let saved = try session.clock()
            var editor = LocalEditor(
                node: identity.node, schema: configuration.schema,
                clock: HybridLogicalClock(last: saved.last, maximumDrift: configuration.maximumDrift),
                counter: saved.counter)
            var made: [Change] = []
            for (ref, given) in actions {
                // A new record states its agency first: a server authorises
                // each change by the record's agency, even when a batch
                // boundary falls among the record's first changes.
                var edits = given
                if try session.isNew(ref),
                    let i = edits.firstIndex(where: { if case .set("agency", _) = $0 { true } else { false } })
                {
                    edits.insert(edits.remove(at: i), at: 0)
                }
                for edit in edits {
                    // The editor reads the edited field, and no other slot.
                    let state = try session.state(ref, reading: edit.field)
                    let change = try editor.change(
                        for: edit, collection: ref.collection, record: ref.id, state: state, wallMillis: wall)
                    _ = try session.ingest(change)
                    made.append(change)
                }
            }
            try session.flush()
            try session.saveClock(editor.clock.last, counter: editor.counter)
            return (made, session.erasedSomething)
        }
        if erased { try truncateWAL() }
        return changes
    }

    /// Applies a batch of changes from a peer, in one transaction.
    ///
    /// Idempotent (a change already held is ignored) and order-independent.
    /// A change naming a field, kind or operation this version does not know
    /// is stored and relayed unchanged. A change for an erased record is
    /// dropped; one covered by an erasure is stored purged.
    public func apply(_ changes: [Change]) throws -> ApplySummary {
        let wall = now()
        let (summary, erased) = try queue.writing { db -> (ApplySummary, Bool) in
            var session = WriteSession(db: db, schema: configuration.schema, prepared: prepared)
            let saved = try session.clock()
            var clock = HybridLogicalClock(last: saved.last, maximumDrift: configuration.maximumDrift)
            var summary = ApplySummary()
            var counter = saved.counter
            for change in changes {
                // This node's own changes coming back (after the laptop was
                // restored from a backup): never reuse their counters.
                if change.id.origin == identity.node { counter = max(counter, change.id.counter) }
                switch try session.ingest(change) {
                case nil: summary.duplicates += 1
                case .dropped?: summary.dropped += 1
                case _?: summary.applied += 1
                }
                if !clock.observe(change.time, wallMillis: wall) { summary.fromTheFuture += 1 }
            }
            try session.flush()
            try session.saveClock(clock.last, counter: counter)
            return (summary, session.erasedSomething)
        }
        if erased { try truncateWAL() }
        return summary
    }

    /// Erases a seeker and their registrations: their values leave every
    /// table, the change log keeps only ids, times and targets, and the WAL
    /// is checkpointed and truncated so no file of the node holds them.
    ///
    /// - Returns: the records erased.
    @discardableResult
    public func eraseSeeker(_ id: String) throws -> [RecordRef] {
        guard let state = try state("seeker", id), !state.isErased else {
            throw StoreError(.recordNotFound, "no seeker has the id \(id); 'navette seeker list' shows them")
        }
        _ = state
        let registrations = try queue.reading { db in
            try String.fetchAll(
                db.cachedStatement(
                    sql: "SELECT id FROM record_index WHERE collection = 'registration' AND seeker = ? ORDER BY id"),
                arguments: [id])
        }
        let refs = [RecordRef("seeker", id)] + registrations.map { RecordRef("registration", $0) }
        try perform(refs.map { ($0, [.eraseRecord]) })
        return refs
    }

    /// Checkpoints the WAL into the main file and truncates it to zero bytes.
    ///
    /// SQLite refuses, at once and whatever the busy timeout, a checkpoint
    /// while another connection runs one (`SQLITE_BUSY`): this store's
    /// background ``Checkpointer``, which is paused meanwhile, or another
    /// process's store on the same file, which is waited out for up to
    /// ``truncateWALPatience``.
    public func truncateWAL() throws {
        let truncate = { try self.queue.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) } }
        let deadline = ContinuousClock.now + Self.truncateWALPatience
        var pauseMilliseconds = 1
        while true {
            do {
                if let checkpointer { try checkpointer.pausing(truncate) } else { try truncate() }
                return
            } catch let error as DatabaseError where error.resultCode.primaryResultCode == .SQLITE_BUSY {
                guard ContinuousClock.now < deadline else { throw error }
                usleep(useconds_t(pauseMilliseconds * 1_000))
                pauseMilliseconds = min(pauseMilliseconds * 2, 20)
            }
        }
    }

    /// How long ``truncateWAL()`` waits for other connections' checkpoints.
    static let truncateWALPatience = Duration.seconds(10)
}

extension Change {
    /// Whether an erasure takes this change's value away: an erasure of its
    /// whole record (`field == nil`), of its field, or of its slot (`key`),
    /// covering what ranks below `before` when given. `except` is the
    /// erasing change itself; erase changes and changes with no value keep
    /// what they hold.
    public func isCovered(byErasureOf field: String?, key: String?, before: Stamp?, except: ChangeID?) -> Bool {
        if let field, self.field != field { return false }
        if let key, self.key != key { return false }
        if id == except || operation == .erase || value == nil { return false }
        if let before, !(stamp < before) { return false }
        return true
    }
}

/// The work of one write transaction: record states loaded once, changes
/// ingested, states and indexes written back once.
///
/// A state is opened lazily (``LazyRecordState``): only the slots changes
/// write, and those the index reads, are read and written; the others are
/// copied back as stored.
struct WriteSession {
    /// The zero bytes stored beside a state of `count` bytes (the record
    /// row's `pad`), or `nil` for none.
    ///
    /// SQLite rewrites a row in place, writing only the pages whose bytes
    /// changed, when its new payload has the old one's size; otherwise it
    /// frees the row's overflow pages and takes others, and with
    /// `secure_delete` it writes each freed page zeroed and the free-list
    /// count in page 1 as well. A seeker's state (4.4 KB on average) takes
    /// an overflow page, and an edit changes its length by a few bytes, so
    /// states of 3 KB or more are padded up to the next multiple of 512
    /// bytes, plus 64 so that the pad's own length keeps the size of its
    /// header (a blob under 58 bytes has a one-byte type): an edit whose
    /// state stays in its 512 bytes writes the record's leaf and the
    /// overflow pages it changed, and no free-list pages (one page fewer
    /// in `EditPagesTests`). It costs 320 bytes per such record on
    /// average. Smaller states live in their leaf, which an edit writes
    /// whatever their length.
    static func padding(forState count: Int) -> Int? {
        guard count >= 3_072 else { return nil }
        return 64 + (512 - count % 512) % 512
    }

    let db: Database
    let schema: Schema
    var states: [RecordRef: LazyRecordState] = [:]
    /// Each record as loaded (`.some(nil)`: new), to tell whether the write
    /// changed what views and the index read of it.
    var loaded: [RecordRef: LazyRecordState?] = [:]
    /// Each loaded record's stored conflict count.
    var storedConflicts: [RecordRef: Int] = [:]
    var dirty: Set<RecordRef> = []
    var erasedSomething = false
    /// The sequence the next logged change takes: read on the first insert.
    var nextSequence: Int64?
    /// The sequence of the last change this session logged, which
    /// ``saveClock(_:counter:resetting:)`` stamps with the clock.
    var lastInserted: Int64?
    /// The statements run per change and per record.
    let statements: SessionStatements

    init(db: Database, schema: Schema, prepared: PreparedStatements) {
        self.db = db
        self.schema = schema
        self.statements = SessionStatements(db, prepared)
    }

    /// A record's whole state (every slot read).
    mutating func state(_ ref: RecordRef) throws -> RecordState {
        try load(ref, whole: true)
        try Self.damaged(ref) { try states[ref]!.parseAll() }
        return states[ref]!.state
    }

    /// A record's state with the slots of `field` read, and perhaps no other
    /// slot (``LazyRecordState``).
    mutating func state(_ ref: RecordRef, reading field: String?) throws -> RecordState {
        try load(ref)
        if let field { try Self.damaged(ref) { try states[ref]!.parse(field: field) } }
        return states[ref]!.state
    }

    /// Whether a record has no state at all, stored or written here.
    mutating func isNew(_ ref: RecordRef) throws -> Bool {
        try load(ref)
        return states[ref]!.isComplete && states[ref]!.state == RecordState()
    }

    /// The clock's last time and this node's change counter: the greater of
    /// what `meta` holds and what the log's last change carries (zero when
    /// neither holds them).
    ///
    /// Since store version 4, a write that logs changes stamps the clock on
    /// the last of them (``saveClock(_:counter:resetting:)``), whose page
    /// the write writes anyway, rather than on `meta`'s page; a trigger
    /// (`change_keeps_clock`) copies a last change's clock, counter and
    /// sequence into `meta` before the change leaves the log.
    func clock() throws -> (last: Timestamp, counter: UInt64) {
        try statements(.selectClock).firstRow { row in
            func timestamp(_ column: Int32) -> Timestamp {
                row.text(column).flatMap { Timestamp(String(decoding: $0, as: UTF8.self)) } ?? .zero
            }
            let metaCounter = row.text(1).flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
            return (
                max(timestamp(0), timestamp(2)),
                max(metaCounter, UInt64(bitPattern: row.int64(3)))
            )
        } ?? (.zero, 0)
    }

    /// Saves the clock's last time and this node's change counter: on the
    /// last change this session logged, or in `meta` when it logged none.
    ///
    /// - Parameter resetting: whether `last` may be earlier than the clock
    ///   read (a restamp restarts the clock from now): `meta` and the log's
    ///   last change both take it, so that neither keeps the later time.
    func saveClock(_ last: Timestamp, counter: UInt64, resetting: Bool = false) throws {
        if let lastInserted {
            let update = try statements(.stampClock)
            update.bind(1, last.description)
            update.bind(2, Int64(bitPattern: counter))
            update.bind(3, lastInserted)
            try update.run()
        }
        if lastInserted == nil || resetting {
            try setMetaValue("clock", last.description)
            try setMetaValue("counter", String(counter))
        }
        if lastInserted == nil && resetting {
            try db.cachedStatement(
                sql: """
                    UPDATE change SET clock = ? WHERE seq = (SELECT max(seq) FROM change) AND clock IS NOT NULL
                    """
            ).execute(arguments: [last.description])
        }
    }

    /// ``RecordStore/lastSequence(_:)``, through the session's statement.
    func lastSequence() throws -> Int64 {
        try statements(.selectLastSequence).firstRow { row in row.int64(0) } ?? 0
    }

    func setMetaValue(_ key: String, _ value: String) throws {
        let update = try statements(.updateMeta)
        update.bind(1, value)
        update.bind(2, key)
        try update.run()
    }

    /// Sets a record's whole state, to be written by ``flush()``.
    mutating func replace(_ ref: RecordRef, with state: RecordState) {
        states[ref] = LazyRecordState(state)
        dirty.insert(ref)
    }

    /// Reads a record's state into ``states`` unless it is there already:
    /// lazily, or `whole` (in one pass, for a caller that reads every slot).
    mutating func load(_ ref: RecordRef, whole: Bool = false) throws {
        guard states[ref] == nil else { return }
        let select = try statements(.selectState)
        select.bind(1, ref.collection)
        select.bind(2, ref.id)
        let row = try select.firstRow { row -> (LazyRecordState, Int)? in
            guard let text = row.text(0) else { return nil }
            let state =
                whole
                ? LazyRecordState(try RecordStore.decodeState(Array(text), of: ref))
                : try RecordStore.openState(Array(text), of: ref)
            return (state, Int(row.int64(1)))
        }
        let stored = row.flatMap { $0 }
        states[ref] = stored?.0 ?? LazyRecordState(RecordState())
        loaded[ref] = .some(stored?.0)
        storedConflicts[ref] = stored?.1 ?? 0
    }

    /// Runs `body`, reporting a damaged stored slot of `ref` as
    /// ``StoreError/Code/damaged``. Static: a method would borrow the
    /// session, and the states `body` changes would be copied.
    static func damaged<T>(_ ref: RecordRef, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error where error is JSONParsingError || error is ChangeDecodingError {
            throw RecordStore.damagedState(ref)
        }
    }

    /// Applies one change and logs it. Returns `nil` for a change already held.
    ///
    /// The log's unique id finds a change already held: the insert is
    /// ignored, and nothing else is done. (A change dropped because its
    /// record is erased is never logged, so it is dropped again.)
    mutating func ingest(_ change: Change) throws -> ApplyOutcome? {
        let ref = RecordRef(change.collection, change.record)
        try load(ref)
        // In place, where a copy would copy the record's slots. Applying is
        // idempotent, so a change already held leaves the state as it was.
        let outcome = try Self.damaged(ref) { try states[ref]!.apply(change) }
        #if NAVETTE_INTERNAL_CHECKS
            states[ref]!.state._checkInvariants()
        #endif
        switch outcome {
        case .dropped:
            break
        case .purgedOnArrival:
            guard try insert(change.purged) else { return nil }
        case .applied, .notUnderstood:
            guard try insert(change) else { return nil }
        case .erasedScope(let scope, let before, let wholeField):
            guard try insert(change) else { return nil }
            try purgeLog(ref, field: scope.field, key: wholeField ? nil : scope.key, before: before)
            erasedSomething = true
        case .erasedRecord:
            guard try insert(change) else { return nil }
            try purgeLog(ref, field: nil, key: nil, before: nil, except: change.id)
            erasedSomething = true
        }
        dirty.insert(ref)
        return outcome
    }

    /// Logs a change under the next sequence; `false` when the log already
    /// holds its id.
    ///
    /// Sequences are given here, never reused: a peer that acknowledged one
    /// would never get a later change that reused it, even after the change
    /// that had it was compacted, purged or restamped away.
    mutating func insert(_ change: Change) throws -> Bool {
        let sequence = try nextSequence ?? lastSequence() + 1
        let insert = try statements(.insertChange)
        insert.bind(1, change.id.description)
        insert.bind(2, change.id.origin.description)
        insert.bind(3, Int64(bitPattern: change.time.rawValue))
        insert.bind(4, change.collection)
        insert.bind(5, change.record)
        insert.bind(6, change.field)
        insert.bind(7, change.key)
        insert.bind(8, change.operation.name)
        insert.bind(9, utf8: change.encodedBytes)
        insert.bind(10, change.isPurged)
        insert.bind(11, sequence)
        guard try insert.run() > 0 else { return false }
        nextSequence = sequence + 1
        lastInserted = sequence
        return true
    }

    /// Replaces stored changes' values with nothing: all of a record's
    /// (`field == nil`), or those of a field or slot ranked below `before`.
    func purgeLog(_ ref: RecordRef, field: String?, key: String?, before: Stamp?, except: ChangeID? = nil) throws {
        var sql = "SELECT seq, body FROM change WHERE collection = ? AND record = ? AND purged = 0"
        var args: StatementArguments = [ref.collection, ref.id]
        if let field {
            sql += " AND field = ?"
            args += [field]
            if let key {
                sql += " AND key = ?"
                args += [key]
            }
        }
        for row in try Row.fetchAll(db, sql: sql, arguments: args) {
            let seq: Int64 = row["seq"]
            let body: String = row["body"]
            let change = try Change(encoded: Array(body.utf8))
            guard change.isCovered(byErasureOf: field, key: key, before: before, except: except) else { continue }
            try db.cachedStatement(sql: "UPDATE change SET body = ?, purged = 1 WHERE seq = ?").execute(arguments: [
                change.purged.encoded, seq,
            ])
        }
    }

    /// Writes back every state this session changed, with its index row,
    /// and moves the store's view generation on if what views read changed.
    /// The session then forgets what it loaded: a later access reads what
    /// was written.
    mutating func flush() throws {
        // What views and the index read, in each state and as it was loaded;
        // nothing, for a record whose write left all of it as it was.
        var fieldsRead: [String: Set<String>] = [:]
        var indexed: Set<RecordRef> = []
        for ref in dirty {
            if fieldsRead[ref.collection] == nil {
                fieldsRead[ref.collection] = Set(RecordIndexer.fieldsRead(ref.collection, schema))
            }
            let fields = fieldsRead[ref.collection]!
            if readsUnchanged(ref, fields) { continue }
            indexed.insert(ref)
            try Self.damaged(ref) {
                try states[ref]!.parse(fields: fields)
                try loaded[ref]??.parse(fields: fields)
            }
        }
        var before: [RecordRef: RecordState?] = [:]
        var after: [RecordRef: RecordState] = [:]
        for ref in indexed {
            before[ref] = loaded[ref].map { $0?.state }
            after[ref] = states[ref]!.state
        }
        if RecordLinks.viewsChanged(indexed, loaded: before, states: after, schema) {
            try RecordStore.moveViewGeneration(db)
        }
        for ref in dirty {
            let lazy = states[ref]!
            let s = lazy.state
            let upsert = try statements(.upsertRecord)
            upsert.bind(1, ref.collection)
            upsert.bind(2, ref.id)
            let stored = lazy.storedBytes  // computed: serialised once
            upsert.bind(3, utf8: stored)
            upsert.bind(4, s.isErased)
            upsert.bind(5, s.isDeleted)
            upsert.bind(6, Int64(try Self.damaged(ref) { try conflictCount(ref, lazy) }))
            // No agency: the stored one stays (the upsert's `coalesce`).
            upsert.bind(7, indexed.contains(ref) ? RecordIndexer.agency(of: ref, s, schema) : nil)
            upsert.bind(8, zeroBytes: Self.padding(forState: stored.count))
            try upsert.run()
            if indexed.contains(ref) { try RecordIndexer.update(statements, ref, s, before: before[ref], schema) }
        }
        dirty = []
        states = [:]
        loaded = [:]
        storedConflicts = [:]
    }

    /// Whether this write left everything the index, the links, the agency
    /// and views read of a stored record as it was: whether it is erased or
    /// deleted, and every slot of `fields` (``RecordIndexer/fieldsRead(_:_:)``).
    func readsUnchanged(_ ref: RecordRef, _ fields: Set<String>) -> Bool {
        guard case .some(.some(let before)) = loaded[ref], let after = states[ref], let written = after.written else {
            return false
        }
        return before.state.isErased == after.state.isErased && before.state.isDeleted == after.state.isDeleted
            && !written.contains { fields.contains($0.field) }
    }

    /// The record's conflict count (``RecordIndexer/conflictCount(_:_:_:)``):
    /// counted over its slots when all were read, otherwise its stored count
    /// moved by what the slots written changed.
    func conflictCount(_ ref: RecordRef, _ lazy: LazyRecordState) throws -> Int {
        guard let spec = schema.collection(ref.collection), !lazy.state.isErased else { return 0 }
        if lazy.isComplete { return RecordIndexer.conflictCount(lazy.state, ref.collection, schema) }
        var count = storedConflicts[ref] ?? 0
        // A state left incomplete was opened from stored bytes: its writes are tracked.
        for key in lazy.written ?? [] {
            count += RecordIndexer.conflicts(key, lazy.state.slots[key], spec)
            count -= RecordIndexer.conflicts(key, try lazy.storedSlot(key), spec)
        }
        return count
    }
}

/// The statements a write session runs per change or per record (the
/// change log, the record, its index row and links), prepared
/// on first use and finalized with the session (see ``RawStatement``).
final class SessionStatements {
    enum Kind: Int, CaseIterable {
        case insertChange, upsertRecord, selectState, upsertIndexRow, deleteIndexRow, deleteLinks, insertLink
        case updateMeta, selectLastSequence, selectClock, stampClock

        var sql: String {
            switch self {
            case .insertChange:
                """
                INSERT INTO change (id, origin, time, collection, record, field, key, op, body, purged, seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO NOTHING
                """
            case .upsertRecord:
                """
                INSERT INTO record (collection, id, state, erased, deleted, conflicts, agency, pad)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (collection, id) DO UPDATE SET
                    state = excluded.state, erased = excluded.erased, deleted = excluded.deleted,
                    conflicts = excluded.conflicts, agency = coalesce(excluded.agency, record.agency),
                    pad = excluded.pad
                """
            case .selectState:
                "SELECT state, conflicts FROM record WHERE collection = ? AND id = ?"
            case .upsertIndexRow:
                """
                INSERT INTO record_index (collection, id, agency, referent, status, seeker, session, name_key, summary)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (collection, id) DO UPDATE SET
                    agency = excluded.agency, referent = excluded.referent, status = excluded.status,
                    seeker = excluded.seeker, session = excluded.session, name_key = excluded.name_key,
                    summary = excluded.summary
                """
            case .deleteIndexRow: "DELETE FROM record_index WHERE collection = ? AND id = ?"
            case .deleteLinks: "DELETE FROM record_link WHERE collection = ? AND record = ?"
            case .insertLink:
                "INSERT OR IGNORE INTO record_link (collection, record, role, value) VALUES (?, ?, ?, ?)"
            case .updateMeta: "UPDATE meta SET value = ? WHERE key = ?"
            case .selectLastSequence: RecordStore.lastSequenceSQL
            case .selectClock:
                // Scalar subqueries, each a seek: a join on the last change
                // materialised it in a table of its own on every edit.
                """
                SELECT (SELECT value FROM meta WHERE key = 'clock'), (SELECT value FROM meta WHERE key = 'counter'),
                       (SELECT clock FROM change ORDER BY seq DESC LIMIT 1),
                       (SELECT counter FROM change ORDER BY seq DESC LIMIT 1)
                """
            case .stampClock: "UPDATE change SET clock = ?, counter = ? WHERE seq = ?"
            }
        }
    }

    private let db: Database
    private let prepared: PreparedStatements

    init(_ db: Database, _ prepared: PreparedStatements) {
        self.db = db
        self.prepared = prepared
    }

    func callAsFunction(_ kind: Kind) throws -> RawStatement {
        if let statement = prepared.statements[kind.rawValue] { return statement }
        let statement = try RawStatement(db, kind.sql)
        prepared.statements[kind.rawValue] = statement
        return statement
    }
}

/// The statements of ``SessionStatements``, prepared once for the store's
/// connection and kept from one write session to the next: preparing them
/// for each session was 3.5% of the server's CPU, and more of a local edit's.
///
/// Only used inside the store's serialized database access (hence
/// `@unchecked Sendable`). ``RecordStore`` finalizes them when it is
/// released: a connection closes (and folds its WAL back into the file)
/// only once its last statement is finalized.
final class PreparedStatements: @unchecked Sendable {
    fileprivate var statements = [RawStatement?](repeating: nil, count: SessionStatements.Kind.allCases.count)

    /// Finalizes every statement; later sessions prepare them again.
    func finalize() {
        statements = [RawStatement?](repeating: nil, count: statements.count)
    }
}

extension RecordStore {
    /// Moves the view generation on (see ``ServerRecords/viewGeneration()``).
    static func moveViewGeneration(_ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO meta (key, value) VALUES ('viewGeneration', '1')
                ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1
                """
        ).execute()
    }

    static func loadState(_ db: Database, _ ref: RecordRef) throws -> RecordState? {
        guard
            let text = try String.fetchOne(
                db.cachedStatement(sql: "SELECT state FROM record WHERE collection = ? AND id = ?"),
                arguments: [ref.collection, ref.id])
        else { return nil }
        return try decodeState(Array(text.utf8), of: ref)
    }

    /// Opens the stored state of `ref` for a write (``LazyRecordState``), or
    /// throws ``StoreError/Code/damaged``. What the lazy reader refuses is
    /// read whole, so that a damaged state reads as ``decodeState(_:of:)``
    /// reads it.
    static func openState(_ bytes: [UInt8], of ref: RecordRef) throws -> LazyRecordState {
        if let lazy = try? LazyRecordState(storedBytes: bytes, limits: storedLimits) { return lazy }
        return LazyRecordState(try decodeState(bytes, of: ref))
    }

    /// Stored states may exceed the limits of a peer's message.
    static let storedLimits = JSONParsingLimits(maximumBytes: 1 << 30)

    /// Decodes the stored state of `ref`, or throws ``StoreError/Code/damaged``.
    static func decodeState(_ bytes: [UInt8], of ref: RecordRef) throws -> RecordState {
        do {
            return try RecordState(storedBytes: bytes, limits: storedLimits)
        } catch {
            throw damagedState(ref)
        }
    }

    /// The error for a stored state of `ref` that cannot be read back.
    static func damagedState(_ ref: RecordRef) -> StoreError {
        StoreError(.damaged, "the stored state of \(ref) cannot be read back")
    }

    /// Decodes a stored record state (stored states may exceed the limits
    /// of a peer's message, so this parse has looser ones).
    static func decodeState(_ text: String) throws -> RecordState {
        try RecordState(storedBytes: Array(text.utf8), limits: storedLimits)
    }
}
