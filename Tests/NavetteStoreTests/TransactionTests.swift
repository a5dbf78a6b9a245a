import GRDB
import GRDBSQLite
import NavetteTesting
import Testing

@testable import NavetteStore

/// The store's transactions: reads keep the connection's prepared
/// statements compiled (GRDB's `read` has SQLite expire them all) and still
/// run in one transaction; a write commits all or nothing.
struct TransactionTests {
    func database() throws -> (DatabaseQueue, TemporaryDirectory) {
        try scratchDatabase("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)", "INSERT INTO t VALUES ('a', 1), ('b', 2)")
    }

    /// How many times SQLite compiled the cached statement again since it
    /// was first prepared.
    func recompilations(_ queue: DatabaseQueue, around read: () throws -> Void) throws -> Int32 {
        let sql = "SELECT v FROM t WHERE k = ?"
        try queue.inDatabase { db in _ = try Int.fetchOne(db.cachedStatement(sql: sql), arguments: ["a"]) }
        try read()
        return try queue.inDatabase { db in
            let statement = try db.cachedStatement(sql: sql)
            #expect(try Int.fetchOne(statement, arguments: ["b"]) == 2)
            return sqlite3_stmt_status(statement.sqliteStatement, SQLITE_STMTSTATUS_REPREPARE, 0)
        }
    }

    /// The premise, and the proof that the count below can see a
    /// recompilation: after GRDB's `read`, the statement is compiled again.
    @Test func grdbsReadHasCachedStatementsCompiledAgain() throws {
        let (queue, dir) = try database()
        defer { dir.remove() }
        let count = try recompilations(queue) { _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } }
        #expect(count == 1)
    }

    @Test func readingLeavesCachedStatementsCompiled() throws {
        let (queue, dir) = try database()
        defer { dir.remove() }
        var read: Int?
        let count = try recompilations(queue) { read = try queue.reading { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } }
        #expect(read == 2)
        #expect(count == 0)
    }

    @Test func readingRunsInOneTransactionAndPassesErrorsOn() throws {
        let (queue, dir) = try database()
        defer { dir.remove() }
        struct Planted: Error {}
        #expect(throws: Planted.self) {
            try queue.reading { db in
                #expect(db.isInsideTransaction)
                throw Planted()
            }
        }
        // The failed read's transaction was rolled back: a write can begin.
        try queue.write { db in try db.execute(sql: "UPDATE t SET v = 3 WHERE k = 'a'") }
        #expect(try queue.reading { db in try Int.fetchOne(db, sql: "SELECT v FROM t WHERE k = 'a'") } == 3)
    }

    @Test func writingCommitsAllOrNothing() throws {
        let (queue, dir) = try database()
        defer { dir.remove() }
        try queue.writing { db in
            #expect(db.isInsideTransaction)
            try db.execute(sql: "INSERT INTO t VALUES ('c', 3)")
            try db.execute(sql: "UPDATE t SET v = 10 WHERE k = 'a'")
        }
        struct Planted: Error {}
        #expect(throws: Planted.self) {
            try queue.writing { db in
                try db.execute(sql: "INSERT INTO t VALUES ('d', 4)")
                throw Planted()
            }
        }
        // A statement that fails: its transaction is rolled back too.
        #expect(throws: DatabaseError.self) {
            try queue.writing { db in
                try db.execute(sql: "UPDATE t SET v = 20 WHERE k = 'b'")
                try db.execute(sql: "INSERT INTO t VALUES ('a', 5)")  // a duplicate key
            }
        }
        let rows = try queue.reading { db in try Row.fetchAll(db, sql: "SELECT k, v FROM t ORDER BY k") }
        #expect(rows.map { "\($0["k"] as String)=\($0["v"] as Int)" } == ["a=10", "b=2", "c=3"])
        #expect(queue.inDatabase { db in db.isInsideTransaction } == false, "no transaction left open")
    }
}
