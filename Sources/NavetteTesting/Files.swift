import Foundation

/// Every file under `directory`, read whole.
public func filesUnder(_ directory: String) throws -> [(path: String, bytes: Data)] {
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

/// The files under `directory` that contain `needle` (as UTF-8): how
/// erasure tests prove that no file still holds an erased value.
public func filesContaining(_ needle: String, under directory: String) throws -> [String] {
    let n = Data(needle.utf8)
    return try filesUnder(directory).filter { $0.bytes.range(of: n) != nil }.map(\.path)
}
