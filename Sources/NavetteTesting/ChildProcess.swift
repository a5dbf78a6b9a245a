import Foundation

/// Child processes, for the tests and tools that run `navette` as people
/// do: run one to its end, start one and let it go, or start a server and
/// wait for the URL it prints. These calls block their thread; async callers
/// run them on a thread of their own.
public enum ChildProcess {
    /// What a process that ran to its end left.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
    }

    /// Runs `executable` to its end and collects both outputs.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, currentDirectory: URL? = nil
    ) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let environment { p.environment = environment }
        if let currentDirectory { p.currentDirectoryURL = currentDirectory }
        let out = Foundation.Pipe(), err = Foundation.Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Starts `executable` without waiting for it; its output goes to the
    /// file `log` (both streams), or nowhere.
    public static func start(_ executable: String, _ arguments: [String], log: String? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let log {
            FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            p.standardOutput = handle
            p.standardError = handle
        } else {
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        return p
    }

    /// Why a server process did not come up.
    public struct NotStarted: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `navette serve …` with its output in `log`, and waits until it
    /// prints `listening on URL` (at most 10 s).
    ///
    /// - Returns: the process and the URL it listens on.
    public static func startServer(_ executable: String, _ arguments: [String], log: String) throws -> (Process, String) {
        let p = try start(executable, arguments, log: log)
        for _ in 0..<400 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                return (p, String(line.dropFirst("listening on ".count)))
            }
            usleep(25_000)
        }
        p.terminate()
        throw NotStarted(description: "the server did not start within 10 s; see \(log)")
    }
}
