import Foundation
import GRDBSQLite

/// Raw SQLite through its C API, in the store's durability mode (WAL,
/// synchronous=FULL): what a store's figures are compared with.
final class RawSQLite {
    var db: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw BenchError("cannot open \(path)") }
        try exec("PRAGMA journal_mode = WAL")
        try exec("PRAGMA synchronous = FULL")
    }

    deinit { sqlite3_close(db) }

    func exec(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw BenchError("SQLite: \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    func prepare(_ sql: String) throws -> OpaquePointer? {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else {
            throw BenchError("SQLite: \(String(cString: sqlite3_errmsg(db)))")
        }
        return stmt
    }

    /// Binds text and steps a prepared statement, then resets it.
    func run(_ stmt: OpaquePointer?, _ values: [String]) throws {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, v) in values.enumerated() { sqlite3_bind_text(stmt, Int32(i + 1), v, -1, transient) }
        guard sqlite3_step(stmt) == SQLITE_DONE else { throw BenchError("SQLite: \(String(cString: sqlite3_errmsg(db)))") }
        sqlite3_reset(stmt)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
