import Foundation
import GRDB
import NavetteCore
import NavetteTesting
import Testing

@testable import NavetteStore

/// What a counsellor's edit writes to disk, counted in WAL frames: on this
/// machine each page of a commit costs about 13 µs beside its `fdatasync`
/// (`docs/performance.md`), so every page the schema adds shows in the
/// edit's time.
struct EditPagesTests {
    /// The frames of a WAL file that belong to its current generation (those
    /// whose salts match the header's), by page number.
    static func frames(ofWAL path: String, pageSize: Int = 4096) throws -> [UInt32] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        func u32(_ at: Int) -> UInt32 { data[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        guard data.count >= 32 else { return [] }
        var pages: [UInt32] = []
        var at = 32
        while at + 24 + pageSize <= data.count, u32(at + 8) == u32(16), u32(at + 12) == u32(20) {
            pages.append(u32(at))
            at += 24 + pageSize
        }
        return pages
    }

    /// 300 edits of a phone or an e-mail, on random files of a counsellor's
    /// 350, the background checkpointer held off so that the WAL keeps
    /// every frame. Each b-tree an edit writes is named, so that a page
    /// added by a change of the schema shows here.
    ///
    /// The node's id is random, as an enrolled node's is. Node 1's changes
    /// would sort before every other origin's in the log's id index, whose
    /// leftmost leaf SQLite rebalances with its two right siblings on most
    /// inserts once full: 1.55 pages there per edit, against 1.15.
    @Test func aFieldEditWritesTheLogTheStateAndTheClock() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try RecordStore.create(directory: dir.appending("node"), identity: identity(0x9E37_79B9_7F4A_7C15))
        _ = try store.apply(AgencyDataset.generate(seed: 42, sizes: .scaled(seekers: 350)))
        let ids = try store.list("seeker").map(\.id)
        let wal = RecordStore.storePath(directory: dir.appending("node")) + "-wal"
        var rng = SplitMix64(seed: 42)
        let edits = 300
        try store.truncateWAL()
        var written: [UInt32] = []
        try #require(store.checkpointer).pausing {
            try store.edit("seeker", ids[0], [.set("contact.phone", "06 00 00 00 00")])
            let before = try Self.frames(ofWAL: wal).count
            for _ in 0..<edits {
                let value = JSONValue.string("06 \(rng.next() % 100_000_000)")
                try store.edit("seeker", rng.pick(ids), [.set(rng.pick(["contact.phone", "contact.email"]), value)])
            }
            written = Array(try Self.frames(ofWAL: wal).dropFirst(before))
        }
        var owners: [UInt32: String] = [:]
        try store.queue.reading { db in
            for row in try Row.fetchAll(db, sql: "SELECT name, pageno FROM dbstat") {
                owners[UInt32(row["pageno"] as Int)] = row["name"]
            }
        }
        // Page 1 holds the file's header (the free-list count) before the schema.
        owners[1] = "header"
        var perTree: [String: Int] = [:]
        for page in written { perTree[owners[page] ?? "free list", default: 0] += 1 }
        let total = Double(written.count) / Double(edits)
        print(
            "An edit writes \(total) pages:",
            perTree.sorted { $0.value > $1.value }.map { "\($0.key) \(Double($0.value) / Double(edits))" })

        // Every edit writes its change (which carries the clock), the log's
        // id index, and its record's state; nothing else (a laptop's log has
        // no index by record since store version 5).
        for tree in ["change", "sqlite_autoindex_change_1", "record"] {
            #expect(perTree[tree, default: 0] >= edits, "\(tree)")
        }
        #expect(perTree["sqlite_sequence"] == nil)
        #expect(perTree["meta"] == nil)
        #expect(
            Set(perTree.keys).isSubset(of: [
                "change", "sqlite_autoindex_change_1", "record",
                "header",
                "free list",
            ]))
        // A seeker's state takes an overflow page; padded to a steady size,
        // it is rewritten in place, so the free list (whose count is in
        // page 1) moves only when a state outgrows its 512 bytes.
        #expect(perTree["header", default: 0] < edits / 4)
        #expect(total < 5.0)
    }
}
