import GRDB
import GRDBSQLite

extension DatabaseQueue {
    /// Runs `body` in a deferred transaction, to read.
    ///
    /// GRDB's `read` brackets its transaction with `PRAGMA query_only = 1`
    /// and `= 0`, and SQLite expires every prepared statement of the
    /// connection after any such flag pragma: every cached statement was
    /// compiled again on its next use, after every read. On the server, a
    /// sync reads a dozen times, and compiling statements again was 6% of
    /// its CPU.
    ///
    /// The store's reads go through this instead. That they write nothing is
    /// checked in debug builds (the tests): a write here fails an assertion.
    /// `BEGIN` and `COMMIT` are cached statements too (GRDB's transactions
    /// prepare them each time).
    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        try inDatabase { db in
            let changesBefore = sqlite3_total_changes64(db.sqliteConnection)
            let result = try db.transaction(beginning: "BEGIN DEFERRED TRANSACTION", body)
            assert(sqlite3_total_changes64(db.sqliteConnection) == changesBefore, "a read wrote to the store")
            return result
        }
    }

    /// Runs `body` in an immediate transaction and commits it, as GRDB's
    /// `write` does, with `BEGIN`, `COMMIT` and `ROLLBACK` from the
    /// statement cache. If `body` or the commit fails, the transaction is
    /// rolled back (unless SQLite already did) and the error passed on:
    /// nothing of it was written.
    func writing<T>(_ body: (Database) throws -> T) throws -> T {
        try writeWithoutTransaction { db in try db.transaction(beginning: "BEGIN IMMEDIATE TRANSACTION", body) }
    }
}

extension Database {
    /// Runs `body` between `begin` and `COMMIT`, both cached statements;
    /// if `body` or the commit fails, rolls back and passes the error on.
    fileprivate func transaction<T>(beginning begin: String, _ body: (Database) throws -> T) throws -> T {
        try cachedStatement(sql: begin).execute()
        do {
            let result = try body(self)
            try cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return result
        } catch {
            // SQLite may have rolled back already (an I/O error, say).
            if isInsideTransaction { try? cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
            throw error
        }
    }
}
