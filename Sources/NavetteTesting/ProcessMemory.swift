import Foundation

/// A process's memory, from `/proc/<pid>/status` (Linux; 0 elsewhere).
public enum ProcessMemory {
    /// This process's resident set size now, in megabytes.
    public static func residentMegabytes() -> Int { field("VmRSS:", of: "self") }
    /// The largest resident set size a process reached so far (the kernel's
    /// high-water mark), in megabytes; this process's by default.
    public static func peakMegabytes(pid: Int32? = nil) -> Int { field("VmHWM:", of: pid.map(String.init) ?? "self") }

    static func field(_ name: String, of process: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
            let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }
}
