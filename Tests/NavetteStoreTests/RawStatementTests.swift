import GRDB
import NavetteTesting
import Testing

@testable import NavetteStore

/// The C-API statements a write session runs: what they bind, what they
/// return, and that a failure is reported and leaves them usable.
struct RawStatementTests {
    func database() throws -> (DatabaseQueue, TemporaryDirectory) {
        try scratchDatabase("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT, n INTEGER, b INTEGER)")
    }

    @Test func bindsTextNullIntegersAndBooleansAndReadsARowBack() throws {
        let (queue, dir) = try database()
        defer { dir.remove() }
        try queue.write { db in
            let insert = try RawStatement(db, "INSERT INTO t (k, v, n, b) VALUES (?, ?, ?, ?)")
            insert.bind(1, "é1")
            insert.bind(2, utf8: Array("{\"a\":1}".utf8))
            insert.bind(3, Int64.min)
            insert.bind(4, true)
            #expect(try insert.run() == 1)
            insert.bind(1, "empty")
            insert.bind(2, "")
            #expect(try insert.run() == 1)
            insert.bind(1, "null")
            insert.bind(2, nil as String?)
            #expect(try insert.run() == 1)

            let rows = try Row.fetchAll(db, sql: "SELECT k, v, n, b, typeof(v) AS type FROM t ORDER BY k")
            #expect(rows.map { $0["k"] as String } == ["empty", "null", "é1"])
            #expect(rows.map { $0["type"] as String } == ["text", "null", "text"])
            #expect(rows[0]["v"] as String == "")
            #expect(rows[2]["v"] as String == "{\"a\":1}")
            #expect(rows[2]["n"] as Int64 == Int64.min)
            #expect(rows[2]["b"] as Int64 == 1)
            // Bindings do not outlive a run: unbound parameters are NULL.
            insert.bind(1, "unbound")
            #expect(try insert.run() == 1)
            #expect(try Row.fetchOne(db, sql: "SELECT typeof(v) AS type FROM t WHERE k = 'unbound'")?["type"] as String? == "null")

            let select = try RawStatement(db, "SELECT v, n FROM t WHERE k = ?")
            func read(_ k: String) throws -> (String?, Int64)? {
                select.bind(1, k)
                return try select.firstRow { row in (row.text(0).map { String(decoding: $0, as: UTF8.self) }, row.int64(1)) }
            }
            #expect(try read("é1")?.0 == "{\"a\":1}")
            #expect(try read("é1")?.1 == Int64.min)
            #expect(try read("missing") == nil)
            #expect(try read("null").map { $0.0 == nil } == true)
            #expect(try read("empty")?.0 == "")
        }
    }

    @Test func aFailureThrowsSQLitesErrorAndTheStatementRunsAgain() throws {
        let (queue, dir) = try database()
        defer { dir.remove() }
        try queue.write { db in
            let insert = try RawStatement(db, "INSERT INTO t (k) VALUES (?)")
            insert.bind(1, "a")
            try insert.run()
            insert.bind(1, "a")
            let error = #expect(throws: DatabaseError.self) { try insert.run() }
            #expect(error?.resultCode == .SQLITE_CONSTRAINT)
            #expect(error?.message?.contains("UNIQUE") == true)
            insert.bind(1, "b")
            #expect(try insert.run() == 1)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 2)
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in _ = try RawStatement(db, "INSERT INTO missing VALUES (1)") }
        }
    }
}
