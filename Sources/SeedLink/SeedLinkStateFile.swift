import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The client's resume state: the last sequence number received per station.
///
/// Format: one line per station, `NET STA SEQ` (decimal sequence number), sorted; `#` starts a
/// comment line. Written atomically: the text goes to `PATH.tmp-PID` first, which is then
/// renamed over `PATH` (`rename(2)` is atomic on POSIX file systems), so a crash leaves either
/// the old or the new file, never a partial one.
public enum SeedLinkStateFile {
    /// Station key `NET_STA` as used in the state.
    public static func key(network: String, station: String) -> String { "\(network)_\(station)" }

    /// Reads a state file; a missing file is an empty state.
    ///
    /// - Throws: `.stateFile` naming the line for a malformed line or an unreadable file.
    public static func load(path: String) throws(SeedLinkError) -> [String: Int] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SeedLinkError(.stateFile, "\(path): cannot read")
        }
        var state: [String: Int] = [:]
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3, let seq = Int(fields[2]), seq >= 0 else {
                throw SeedLinkError(.stateFile, "\(path): line \(n + 1): expected 'NET STA SEQ', got '\(trimmed)'")
            }
            state[key(network: String(fields[0]), station: String(fields[1]))] = seq
        }
        return state
    }

    /// Writes the state atomically (temporary file + rename).
    ///
    /// - Throws: `.stateFile` with `strerror` when writing or renaming fails.
    public static func save(_ state: [String: Int], path: String) throws(SeedLinkError) {
        var text = "# QuakeWarn SeedLink client state: NET STA last-sequence\n"
        for (k, seq) in state.sorted(by: { $0.key < $1.key }) {
            let parts = k.split(separator: "_", maxSplits: 1).map(String.init)
            let net = parts.first ?? ""
            let sta = parts.count > 1 ? parts[1] : ""
            text += "\(net.isEmpty ? "-" : net) \(sta.isEmpty ? "-" : sta) \(seq)\n"
        }
        let temporary = "\(path).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
            throw SeedLinkError(.stateFile, "\(temporary): cannot write: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SeedLinkError(.stateFile, "\(path): cannot rename \(temporary) over it: \(reason)")
        }
    }
}
