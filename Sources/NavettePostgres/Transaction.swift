import Logging
import PostgresNIO

/// Runs `body` in a transaction on a pooled connection, and throws the
/// error `body` threw (a refusal the caller acts on) rather than the
/// transaction wrapper postgres-nio puts around it; rollback and commit
/// failures are thrown as they are.
func transaction<Result: Sendable>(
    _ client: PostgresClient, _ logger: Logger, _ body: (PostgresConnection) async throws -> sending Result
) async throws -> sending Result {
    do {
        return try await client.withTransaction(logger: logger) { c in try await body(c) }
    } catch let e as PostgresTransactionError {
        if let inner = e.closureError, e.rollbackError == nil { throw inner }
        throw e
    }
}
