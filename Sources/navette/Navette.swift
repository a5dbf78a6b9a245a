import ArgumentParser
import Foundation
import NavetteClient
import NavetteCore
import NavetteStore

/// The `navette` command line: a counsellor's node, its records and the demo.
@main
struct Navette: AsyncParsableCommand {
    /// Keeps a laptop's process small (its goal is 64 MB at peak). glibc's
    /// malloc otherwise gives each thread that allocates an arena of its
    /// own, and, once a large block is freed, serves blocks of that size
    /// from the heap rather than mmap, so freed pull pages stay resident.
    /// Two arenas and a fixed 128 KB mmap threshold took the node-memory
    /// benchmark's peak from 73 to 58 MB (`docs/performance.md`). The
    /// server keeps glibc's defaults: its many threads allocate at once.
    static func keepNodeMemorySmall() {
        #if os(Linux)
        // glibc's <malloc.h>: M_ARENA_MAX is -8, M_MMAP_THRESHOLD is -3.
        _ = glibcMallopt(-8, 2)
        _ = glibcMallopt(-3, 128 * 1024)
        #endif
    }

    /// Runs the command; a refusal is one line on standard error and a
    /// non-zero exit (1 for a refused operation, 64 for a usage error).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if !(command is Serve) { keepNodeMemorySmall() }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            guard code != .success, !(error is CleanExit) else { exit(withError: error) }
            let first = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            let text = first.hasPrefix("Error: ") ? String(first.dropFirst(7)) : first
            FileHandle.standardError.write(Data("error: \(text)\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "navette",
        abstract: "Offline-first job-seeker files and workshops, synchronised between laptops.",
        discussion: """
            Every command works on the node in --dir (default: $NAVETTE_DIR, or ~/.navette).
            Start with 'navette node init', or run 'navette demo' to see two laptops merge offline edits.
            """,
        subcommands: [
            Demo.self, Node.self, Sync.self, SeekerCommand.self, WorkshopCommand.self, Conflicts.self, Status.self,
            Log.self, Import.self, Export.self, SchemaCommand.self, Serve.self, Admin.self, WriteLoop.self,
        ]
    )
}

/// The option every command that works on a node takes.
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The node's directory.", valueName: "dir"))
    var dir: String?

    /// The directory: --dir, else $NAVETTE_DIR, else ~/.navette.
    var directory: String {
        if let dir { return dir }
        if let env = ProcessInfo.processInfo.environment["NAVETTE_DIR"], !env.isEmpty { return env }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".navette")
    }

    func open() throws -> RecordStore {
        do {
            return try RecordStore.open(directory: directory)
        } catch let e as StoreError {
            throw CLIError(e.message)
        }
    }
}

/// A refused command: one line for the person at the keyboard, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// Runs `body`, turning the errors people can act on into one clear line.
func refusing<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as NavetteCore.ValidationError {
        throw CLIError(e.description)
    } catch let e as FieldAssignment.Failure {
        throw CLIError(e.description)
    } catch let e as StoreError {
        throw CLIError(e.message)
    } catch let e as HybridLogicalClock.Error {
        throw CLIError(e.description)
    } catch let e as SyncError {
        throw CLIError(e.message)
    }
}

/// The async form of ``refusing(_:)``.
func refusing<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as NavetteCore.ValidationError {
        throw CLIError(e.description)
    } catch let e as FieldAssignment.Failure {
        throw CLIError(e.description)
    } catch let e as StoreError {
        throw CLIError(e.message)
    } catch let e as SyncError {
        throw CLIError(e.message)
    }
}

/// Writes a line to standard output at once, even when it is a file.
func printFlushed(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

#if os(Linux)
/// glibc's `mallopt`, which the Glibc module does not export (`<malloc.h>`).
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
