import Foundation
import NavetteCore
import NavetteStore
import NavetteTesting

func identity(_ n: UInt64, counsellor: String? = "c1") -> NodeIdentity {
    NodeIdentity(node: NodeID(rawValue: n), name: "node \(n)", agency: "069-lyon-3", counsellor: counsellor)
}

/// A store on disk in a fresh directory; the directory is removed by `done()`.
struct DiskStore {
    let dir: TemporaryDirectory
    let store: RecordStore

    init(_ n: UInt64, clock: ManualClock? = nil) throws {
        dir = try TemporaryDirectory(prefix: "navette-store")
        var config = RecordStore.Configuration()
        if let clock { config.wallClock = clock.read }
        store = try RecordStore.create(directory: dir.appending("node"), identity: identity(n), configuration: config)
    }

    func done() { dir.remove() }
}

/// Every file under `directory`, read whole.
func filesUnder(_ directory: String) throws -> [(path: String, bytes: Data)] {
    let fm = FileManager.default
    var out: [(String, Data)] = []
    for name in try fm.subpathsOfDirectory(atPath: directory) {
        let path = (directory as NSString).appendingPathComponent(name)
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
            out.append((path, try Data(contentsOf: URL(fileURLWithPath: path))))
        }
    }
    return out
}

/// The files under `directory` that contain `needle` (as UTF-8).
func filesContaining(_ needle: String, under directory: String) throws -> [String] {
    let n = Data(needle.utf8)
    return try filesUnder(directory).filter { $0.bytes.range(of: n) != nil }.map(\.path)
}
