import GRDB
import GRDBSQLite

extension DatabaseQueue {
    /// Runs `body` in a deferred transaction, to read.
    ///
    /// GRDB's `read` brackets its transaction with `PRAGMA query_only = 1`
    /// and `= 0`, and SQLite expires every prepared statement of the
    /// connection after any such flag pragma: every cached statement was
    /// compiled again on its next use, after every read. On the server, a
    /// sync reads a dozen times, and compiling statements again was a sixth
    /// of its CPU.
    ///
    /// The store's reads go through this instead. That they write nothing is
    /// checked in debug builds (the tests): a write here fails an assertion.
    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        try inDatabase { db in
            let changesBefore = sqlite3_total_changes64(db.sqliteConnection)
            var result: T?
            try db.inTransaction(.deferred) {
                result = try body(db)
                return .commit
            }
            assert(sqlite3_total_changes64(db.sqliteConnection) == changesBefore, "a read wrote to the store")
            return result!
        }
    }
}
