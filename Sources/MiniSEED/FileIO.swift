#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and writes with POSIX calls, so errors carry `strerror` text.
enum FileIO {
    /// Largest file read into memory at once (4 GiB, about 100 days of 3-component 100 Hz data).
    static let maximumFileSize = 1 << 32

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Reads the whole file into memory (one allocation of the file size).
    static func readAll(path: String) throws(MiniSEEDError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MiniSEEDError(.fileUnreadable, file: path, reason: errnoText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw MiniSEEDError(.fileUnreadable, file: path, reason: errnoText()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw MiniSEEDError(.fileUnreadable, file: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= maximumFileSize else {
            throw MiniSEEDError(.fileUnreadable, file: path, reason: "file of \(size) bytes exceeds the \(maximumFileSize)-byte limit for whole-file reading")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        var failure: String?
        bytes.withUnsafeMutableBytes { buffer in
            while filled < size, let base = buffer.baseAddress {
                let n = read(fd, base + filled, size - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errnoText()
                    return
                }
                if n == 0 { break }
                filled += n
            }
        }
        if let failure { throw MiniSEEDError(.fileUnreadable, file: path, reason: failure) }
        if filled < size { bytes.removeLast(size - filled) }
        return bytes
    }

    /// Writes `bytes` to `path`, replacing it (permissions 0644 for a new file).
    static func writeAll(_ bytes: [UInt8], to path: String) throws(MiniSEEDError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw MiniSEEDError(.fileUnwritable, file: path, reason: errnoText()) }
        var written = 0
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count, let base = buffer.baseAddress {
                let n = write(fd, base + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errnoText()
                    return
                }
                written += n
            }
        }
        if close(fd) != 0, failure == nil { failure = errnoText() }
        if let failure { throw MiniSEEDError(.fileUnwritable, file: path, reason: failure) }
    }
}
