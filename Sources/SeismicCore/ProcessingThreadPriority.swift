#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Real-time scheduling for a daemon's one latency-critical thread: `quakewarn ingest`'s
/// processing thread (ingest.yaml `realtimePriority`) and `quakewarn relay`'s input loop when the
/// relay runs as its own process (relay.yaml `realtimePriority`).
///
/// The ingest processing thread (`IngestService.processingLoop`) reads the SeedLink socket, runs
/// the pipeline, signs, appends to the outbox and writes the MQTT PUBLISH; the relay's loop reads
/// its input socket, verifies, commits and writes the PUBLISH. Under the normal
/// time-sharing policy (CFS), every write to a loopback or LAN socket wakes the reader (the
/// broker, the subscriber) and the kernel may switch to it on the same core at once, so the
/// warning after it waits for the broker's turn. End-to-end runs on the 2-core VM with the
/// machine loaded (load 8–9: the feed, Mosquitto, the subscriber and compiler jobs) gave
/// "committed → PUBLISH written" p99 of 2.5–4.8 ms and arrival → PUBLISH p99 3.2–7.4 ms; the same
/// build under `chrt -f 10` gave 0.35–0.42 ms and 1.7–1.9 ms (Benchmarks/README.md, session 5).
///
/// The cost lands on whatever shares the cores: with Mosquitto and the subscriber on the same
/// 2-core machine (the end-to-end harness), arrival → subscriber receipt got *slower* (p50
/// 2.4–2.7 ms against 1.6–1.9 ms at normal priority, 100 warnings per run), because the broker
/// now waits for the rest of the record. Use it when the broker (the relay platform) runs
/// elsewhere, or with the cores to spare; it is off by default.
///
/// `SCHED_FIFO` keeps the thread on its core until it blocks (in epoll, between records). The
/// thread is idle most of the time (≈ 1 % of a core for two stations), and the kernel's RT
/// throttling (`sched_rt_runtime_us`, 95 % by default) bounds a runaway. It needs
/// `CAP_SYS_NICE` (root, or `AmbientCapabilities=CAP_SYS_NICE` / `LimitRTPRIO=` in a systemd
/// unit); without it the daemon logs a warning and runs at normal priority.
public enum ProcessingThreadPriority: Sendable {
    /// Sets the calling thread to `SCHED_FIFO` at `priority` (1…99). Returns nil on success, else
    /// the reason.
    public static func applyToCurrentThread(_ priority: Int) -> String? {
        #if os(Linux)
        guard (1...99).contains(priority) else { return "priority \(priority) is outside 1...99" }
        var parameters = sched_param()
        parameters.sched_priority = Int32(priority)
        let rc = pthread_setschedparam(pthread_self(), Int32(SCHED_FIFO), &parameters)
        guard rc == 0 else {
            return "pthread_setschedparam(SCHED_FIFO, \(priority)): \(String(cString: strerror(rc)))"
                + (rc == EPERM ? " (needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least \(priority))" : "")
        }
        return nil
        #else
        return "real-time priority is only supported on Linux"
        #endif
    }

    /// Sets `SCHED_FIFO` at `priority` on the thread that `run` executes its closure on (an event
    /// loop's `submit`). Returns nil on success, else the reason (including `run`'s own error).
    public static func apply(_ priority: Int,
                             on run: (@escaping @Sendable () -> String?) async throws -> String?) async -> String? {
        do {
            return try await run { applyToCurrentThread(priority) }
        } catch {
            return "\(error)"
        }
    }

    /// The calling thread's scheduling policy and priority (for logs and tests).
    public static func currentThread() -> (fifo: Bool, priority: Int) {
        #if os(Linux)
        var policy: Int32 = 0
        var parameters = sched_param()
        guard pthread_getschedparam(pthread_self(), &policy, &parameters) == 0 else { return (false, 0) }
        return (policy == Int32(SCHED_FIFO), Int(parameters.sched_priority))
        #else
        return (false, 0)
        #endif
    }
}
