import Foundation
import NavetteTesting
import Testing

/// Runs the built `navette` executable, as a person would.
struct NavetteProcess {
    /// The executable next to the test bundle, or `$NAVETTE_BIN`.
    static var executable: String {
        if let bin = ProcessEnvironment.value("NAVETTE_BIN") { return bin }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0])
        var dir = testBinary.deletingLastPathComponent()
        // Inside an .xctest bundle on some platforms: walk up to the build folder.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("navette").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("navette").path
    }

    typealias Result = ChildProcess.Output

    /// Runs `navette` to its end, waiting on a thread of its own: the tests
    /// of the whole suite share a small pool of threads, and a test that
    /// blocked one while a process runs would starve the others.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await run(executable: executable, arguments, environment: environment)
    }

    /// Runs any executable the same way.
    @discardableResult
    static func run(
        executable: String, _ arguments: [String], environment: [String: String] = [:], currentDirectory: URL? = nil
    ) async throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env["NAVETTE_DIR"] = nil
        for (k, v) in environment { env[k] = v }
        return try await offPool { [env] in
            try ChildProcess.run(executable, arguments, environment: env, currentDirectory: currentDirectory)
        }
    }
}

/// Runs blocking work (waiting for a process, sleeping between kills) on a
/// thread of its own and awaits it, so that the suite's shared threads stay
/// free for the tests running beside it.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// A value handed to another thread as is (a `Process` the test owns).
struct Handed<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

extension Process {
    /// Waits for the process to end without holding a shared thread.
    func exited() async {
        let me = Handed(self)
        _ = try? await offPool { me.value.waitUntilExit() }
    }
}

/// Sleeps without holding a shared thread.
/// The microseconds elapsed since `start`.
func microseconds(since start: ContinuousClock.Instant) -> Int {
    let d = (ContinuousClock.now - start).components
    return Int(d.seconds) * 1_000_000 + Int(d.attoseconds / 1_000_000_000_000)
}

func pause(microseconds: Int) async {
    try? await Task.sleep(for: .microseconds(microseconds))
}
