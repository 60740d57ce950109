import Foundation

/// Turns the paths a user gives (files and directories) into the miniSEED files to read.
public enum MiniSEEDFileList {
    /// The files named by `paths`, in order: a file as given; a directory as its `*.mseed` files
    /// (case-insensitive suffix) sorted by name, and with `recursive` also those of its
    /// subdirectories (depth-first, in name order; hidden entries skipped).
    ///
    /// - Throws: ``MiniSEEDError/Code/fileUnreadable`` naming the path when it does not exist or
    ///   a directory cannot be listed.
    public static func expand(_ paths: [String], recursive: Bool = false) throws(MiniSEEDError) -> [String] {
        var files: [String] = []
        for path in paths {
            try collect(path, recursive: recursive, into: &files)
        }
        return files
    }

    private static func collect(_ path: String, recursive: Bool, into files: inout [String]) throws(MiniSEEDError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MiniSEEDError(.fileUnreadable, file: path, reason: "no such file or directory")
        }
        guard isDirectory.boolValue else {
            files.append(path)
            return
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw MiniSEEDError(.fileUnreadable, file: path, reason: "cannot list directory: \(error.localizedDescription)")
        }
        let base = URL(fileURLWithPath: path)
        for name in names.sorted() where !name.hasPrefix(".") {
            let child = base.appendingPathComponent(name).path
            var childIsDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: child, isDirectory: &childIsDirectory) else { continue }
            if childIsDirectory.boolValue {
                if recursive { try collect(child, recursive: true, into: &files) }
            } else if name.lowercased().hasSuffix(".mseed") {
                files.append(child)
            }
        }
    }
}
