import GRDB
import NavetteCore

extension RecordStore {
    /// Pulls into this store every change `peer` holds that this store has
    /// not yet seen from it, in batches of `batchSize`, each applied in one
    /// transaction; records both sides' checkpoints.
    ///
    /// This is the in-process form of the sync protocol: any two stores can
    /// exchange changes, in either direction, any number of times, and
    /// converge. (The sync issue carries the same exchange over signed HTTP.)
    ///
    /// - Returns: what the pulled batches did.
    @discardableResult
    public func pull(from peer: RecordStore, batchSize: Int = 500) throws -> ApplySummary {
        var total = ApplySummary()
        var cursor = try receivedCursor(peer: peer.identity.node.description)
        while true {
            let batch = try peer.changes(after: cursor, limit: batchSize)
            guard let last = batch.last else { break }
            let s = try apply(batch.map(\.change))
            total.applied += s.applied
            total.duplicates += s.duplicates
            total.dropped += s.dropped
            total.fromTheFuture += s.fromTheFuture
            cursor = last.sequence
            try setReceivedCursor(peer: peer.identity.node.description, sequence: cursor)
            try peer.setCheckpoint(peer: identity.node.description, sequence: cursor)
        }
        return total
    }

    /// The last sequence of `peer`'s log this store has applied.
    public func receivedCursor(peer: String) throws -> Int64 {
        try queue.reading { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT received FROM checkpoint WHERE peer = ?"), arguments: [peer]
            )
            .flatMap { Int64($0) } ?? 0
        }
    }

    /// Records that this store applied `peer`'s log up to `sequence`.
    public func setReceivedCursor(peer: String, sequence: Int64) throws {
        try queue.writing { db in
            try db.execute(
                sql: """
                    INSERT INTO checkpoint (peer, received) VALUES (?, ?)
                    ON CONFLICT (peer) DO UPDATE SET received = excluded.received
                    """, arguments: [peer, String(sequence)])
        }
    }
}
