// Event-driven waiting for tests: a waiter re-checks its condition when something it watches
// reports a change (a callback, a byte read from a pipe, a process exit), never on a timer.

public import Foundation

/// A "something changed" broadcast. Producers call ``notify()`` from any thread after they
/// changed state a waiter may watch (a callback fired, bytes arrived, a process exited); a waiter
/// re-evaluates its condition after every notification, so a condition that holds is seen at
/// once, and nothing is polled. Every wait has a deadline (``TestTimeout``).
///
/// Notifications may be spurious (one signal can serve several conditions): conditions are
/// always re-checked, never assumed.
public final class ChangeSignal: @unchecked Sendable {
    // `generation` and `waiters` are guarded by `condition` (an NSCondition: it also wakes the
    // blocking waiters of `waitBlocking`).
    private let condition = NSCondition()
    private var generation = 0
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    public init() {}

    /// Wakes every waiter so it re-checks its condition. Any thread; never blocks for long.
    public func notify() {
        condition.lock()
        generation += 1
        let ready = waiters
        waiters = [:]
        condition.broadcast()
        condition.unlock()
        for continuation in ready.values { continuation.resume() }
    }

    private func makeWaiterID() -> Int {
        condition.lock()
        defer { condition.unlock() }
        nextWaiter += 1
        return nextWaiter
    }

    private var currentGeneration: Int {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    /// Suspends until a ``notify()`` after generation `seen` (returns at once if one happened
    /// already), or until the task is cancelled.
    private func changed(since seen: Int) async {
        let id = makeWaiterID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                condition.lock()
                if generation != seen || Task.isCancelled {
                    condition.unlock()
                    continuation.resume()
                    return
                }
                waiters[id] = continuation
                condition.unlock()
            }
        } onCancel: {
            condition.lock()
            let continuation = waiters.removeValue(forKey: id)
            condition.unlock()
            continuation?.resume()
        }
    }

    /// Returns once `satisfied()` holds, checking it now and after every ``notify()``; throws
    /// ``TestTimeout`` if it still does not hold after `seconds`.
    public func wait(_ seconds: Double, _ what: String, until satisfied: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        // One wake-up at the deadline, so the last check happens then (a deadline, not a poll).
        let timer = Task { [weak self] in
            try await Task.sleep(until: deadline, clock: .continuous)
            self?.notify()
        }
        defer { timer.cancel() }
        while true {
            let seen = currentGeneration
            if try satisfied() { return }
            if ContinuousClock.now >= deadline { throw TestTimeout(seconds: seconds, what: what) }
            try Task.checkCancellation()
            await changed(since: seen)
        }
    }

    /// Blocking twin of ``wait(_:_:until:)`` for synchronous test helpers (it blocks the calling
    /// thread on a condition variable until a ``notify()`` or the deadline). Returns whether
    /// `satisfied()` held in time.
    public func waitBlocking(_ seconds: Double, until satisfied: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let seen = currentGeneration
            if satisfied() { return true }
            condition.lock()
            var timedOut = false
            while generation == seen && !timedOut {
                timedOut = !condition.wait(until: deadline)
            }
            condition.unlock()
            if timedOut { return satisfied() }
        }
    }
}

/// Text a child process writes to a pipe, collected as it arrives (a reader drains the pipe
/// continuously, so a chatty child never blocks); waiters are woken by every chunk and by
/// end of file, so "wait for the line saying X" needs no polling.
public final class OutputCollector: @unchecked Sendable {
    // `data` and `ended` are guarded by `lock`.
    private let lock = NSLock()
    private var data = Data()
    private var ended = false
    /// Notified on every chunk and at end of file.
    public let changes: ChangeSignal

    public init(changes: ChangeSignal = ChangeSignal()) {
        self.changes = changes
    }

    /// Reads `pipe` until end of file on a thread of its own, collecting everything. Use it
    /// before the process runs; the pipe's write end must be handed to the child only.
    public func attach(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData  // blocks until bytes or end of file
                if chunk.isEmpty { break }
                append(chunk)
            }
            finish()
        }
        thread.stackSize = 1 << 18
        thread.start()
    }

    public func append(_ chunk: Data) {
        lock.lock()
        data.append(chunk)
        lock.unlock()
        changes.notify()
    }

    public func finish() {
        lock.lock()
        ended = true
        lock.unlock()
        changes.notify()
    }

    /// Everything collected so far.
    public var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether the pipe reached end of file (the writer closed it, e.g. the process exited).
    public var isFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return ended
    }

    /// The first non-nil `match(text)`, waiting for more output as it arrives; throws
    /// ``TestTimeout`` after `seconds`, or ``OutputEnded`` when the pipe closes without a match
    /// (the process died).
    public func wait<T>(_ seconds: Double, _ what: String, for match: (String) -> T?) async throws -> T {
        var found: T?
        try await changes.wait(seconds, what) {
            let ended = isFinished
            found = match(text)
            if found == nil && ended { throw OutputEnded(what: what, output: text) }
            return found != nil
        }
        guard let found else { throw TestTimeout(seconds: seconds, what: what) }
        return found
    }

    /// Blocking twin of ``wait(_:_:for:)``: nil on timeout or end of file without a match.
    public func waitBlocking<T>(_ seconds: Double, for match: (String) -> T?) -> T? {
        var found: T?
        _ = changes.waitBlocking(seconds) {
            found = match(text)
            return found != nil || isFinished
        }
        return found ?? match(text)
    }

    /// The integer right after the first occurrence of `marker` (e.g. the port of a "listening
    /// on 127.0.0.1:" line), once all its digits arrived (some other character follows them).
    public static func number(after marker: String) -> (String) -> Int? {
        { text in
            guard let range = text.range(of: marker) else { return nil }
            let rest = text[range.upperBound...]
            let digits = rest.prefix { $0.isNumber }
            guard !digits.isEmpty, rest.count > digits.count else { return nil }
            return Int(digits)
        }
    }
}

/// The output ended (end of file) before what a test waited for appeared.
public struct OutputEnded: Error, CustomStringConvertible {
    public var what: String
    public var output: String
    public var description: String { "output ended before \(what): \(output.suffix(3000))" }
}

/// A latch for a process's exit: ``install(on:)`` sets `Process.terminationHandler` (before
/// `run()`), and waiters are woken by the exit itself.
public final class ExitWatch: @unchecked Sendable {
    public let changes: ChangeSignal
    // guarded by `lock`
    private let lock = NSLock()
    private var status: Int32?

    public init(changes: ChangeSignal = ChangeSignal()) {
        self.changes = changes
    }

    /// Installs the termination handler; call before `process.run()`.
    public func install(on process: Process) {
        process.terminationHandler = { [self] process in
            let code = process.terminationStatus
            lock.lock()
            status = code
            lock.unlock()
            changes.notify()
        }
    }

    /// The exit status, nil while running.
    public var exitStatus: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return status
    }

    /// Waits for the exit; ``TestTimeout`` after `seconds`.
    public func wait(_ seconds: Double, _ what: String) async throws -> Int32 {
        try await changes.wait(seconds, what) { exitStatus != nil }
        return exitStatus ?? -1
    }

    /// Blocking twin: the status, or nil if still running after `seconds`.
    public func waitBlocking(_ seconds: Double) -> Int32? {
        _ = changes.waitBlocking(seconds) { exitStatus != nil }
        return exitStatus
    }
}

#if canImport(Glibc)
import Glibc

/// Wakes a blocked waiter when files change in some directories (Linux inotify: files created,
/// written, renamed into place), so a test can wait for a file another process writes without
/// polling it. Directories that do not exist yet are watched as soon as they appear (watch their
/// parent too, so the creation itself wakes the waiter).
public final class DirectoryWatch {
    private let descriptor: Int32
    private let directories: [String]
    private var watched = Set<String>()

    /// - Parameter directories: the directories to watch, parents before children.
    public init(_ directories: [String]) throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { throw ProcessFailure(command: "inotify_init1", status: errno, stderr: "") }
        self.directories = directories
        addMissingWatches()
    }

    deinit { close(descriptor) }

    private func addMissingWatches() {
        let mask = UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_MODIFY)
        for directory in directories where !watched.contains(directory) {
            if inotify_add_watch(descriptor, directory, mask) >= 0 { watched.insert(directory) }
        }
    }

    /// Returns once `satisfied()` holds, checking it now and after every batch of file-system
    /// events in the directories (the thread blocks in poll(2) on the inotify descriptor until an
    /// event or the deadline; no timer). Returns whether it held within `seconds`.
    public func waitBlocking(_ seconds: Double, until satisfied: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            addMissingWatches()
            if satisfied() { return true }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return satisfied() }
            let milliseconds = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&request, 1, Int32(clamping: milliseconds)) > 0 {
                // Drain the events; which file changed does not matter, the condition is re-checked.
                while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
            }
        }
    }
}
#endif
