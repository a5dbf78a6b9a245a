import GRDB
import GRDBSQLite

/// A statement prepared and run through SQLite's C API: for the statements a
/// write session runs once per change or per record, where GRDB's argument
/// binding costs more than SQLite's own work. In a profile of `apply`, GRDB's
/// binding took 34% of the change-log insert, and SQLite's step 6%.
///
/// Used only inside the store's serialized database access, and finalized
/// when released: ``PreparedStatements`` keeps them from one write session
/// to the next, and the store releases them before its connection closes.
/// It skips GRDB's
/// statement bookkeeping, which only transaction observers and schema
/// changes need: the store has neither, and these statements change no
/// schema. Text is bound as a copy (`SQLITE_TRANSIENT`).
final class RawStatement {
    private let handle: OpaquePointer
    private let connection: OpaquePointer
    private let sql: String

    /// Prepares `sql` on the connection of `db`.
    init(_ db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the database connection is closed", sql: sql)
        }
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v2(connection, sql, -1, &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        }
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds parameter `index` (from 1) to text, or to NULL for `nil`.
    func bind(_ index: Int32, _ text: String?) {
        guard var text else { sqlite3_bind_null(handle, index); return }
        text.withUTF8 { bindText(index, $0) }
    }

    /// Binds parameter `index` to the text whose UTF-8 bytes are given.
    func bind(_ index: Int32, utf8 bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { bindText(index, $0) }
    }

    /// Binds parameter `index` to an integer.
    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    /// Binds parameter `index` to a blob of `count` zero bytes, or to NULL
    /// for `nil`.
    func bind(_ index: Int32, zeroBytes count: Int?) {
        guard let count else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_zeroblob(handle, index, Int32(count))
    }

    /// Binds parameter `index` to 1 or 0.
    func bind(_ index: Int32, _ value: Bool) { sqlite3_bind_int64(handle, index, value ? 1 : 0) }

    private func bindText(_ index: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have no address, which SQLite would bind as NULL.
        let empty: StaticString = ""
        let base = bytes.baseAddress ?? empty.utf8Start
        base.withMemoryRebound(to: CChar.self, capacity: max(bytes.count, 1)) {
            _ = sqlite3_bind_text(handle, index, $0, Int32(bytes.count), Self.transient)
        }
    }

    /// Runs the statement to its end and resets it.
    ///
    /// - Returns: the rows it inserted, updated or deleted.
    @discardableResult
    func run() throws -> Int {
        defer { reset() }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_DONE: return Int(sqlite3_changes(connection))
            case SQLITE_ROW: continue
            case let code: throw failure(code)
            }
        }
    }

    /// Runs a query and hands `body` its first row, valid only during the
    /// call; `nil` when the query returns no row.
    func firstRow<T>(_ body: (RawRow) throws -> T) throws -> T? {
        defer { reset() }
        switch sqlite3_step(handle) {
        case SQLITE_DONE: return nil
        case SQLITE_ROW: return try body(RawRow(handle: handle))
        case let code: throw failure(code)
        }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }

    private func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// A row of a ``RawStatement``, valid until the statement moves on.
struct RawRow {
    fileprivate let handle: OpaquePointer

    /// The text of a column (from 0) as bytes; `nil` for NULL.
    func text(_ column: Int32) -> UnsafeBufferPointer<UInt8>? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        return UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column)))
    }

    /// The integer of a column (from 0); 0 for NULL.
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
}
