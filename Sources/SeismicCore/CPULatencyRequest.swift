#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Linux PM QoS request on the CPU wake-up latency, held for as long as the value lives:
/// ingest.yaml / relay.yaml `cpuWakeupLatencyMicroseconds`.
///
/// Between records (a 1 s packet per station, ≈ 1 % of a core for two stations) the processing
/// thread sleeps in epoll and its CPU goes idle. Leaving an idle state costs time at the next
/// packet: on a KVM guest the vCPU halts, the host may run something else on the core, and the
/// next wake-up pays the exit and the cold caches. The kernel's PM QoS interface
/// (`/dev/cpu_dma_latency`, Documentation/power/pm_qos_interface.rst) lets a process state the
/// largest wake-up latency it tolerates: the cpuidle governor then uses only idle states whose
/// exit latency is at most that value, for as long as the file stays open. 0 µs leaves only the
/// polling state (the CPU spins in the idle loop instead of halting). This is what tuned's
/// `latency-performance` profile (`force_latency`) does for a whole machine.
///
/// Measured on the 2-core test VM (cpuidle driver `haltpoll`: states POLL, 0 µs, and halt, 1 µs),
/// end to end (Benchmarks/README.md, session 7): the first warning of a packet, arrival → PUBLISH
/// written, p50 659 → 511 µs and p99 1,612 → 881 µs (400 warnings each). The cost is energy and the host's CPU time: an idle CPU spins.
/// It applies to every CPU of the machine (the request is global), so use it on a machine
/// dedicated to the warning chain.
///
/// Opening the device needs root (mode 0600); without it ``init(microseconds:device:)`` throws
/// and the daemons log a warning and run without it.
public final class CPULatencyRequest: Sendable {
    /// The device of the request (`/dev/cpu_dma_latency` unless given).
    public let device: String
    /// The latency limit requested, µs.
    public let microseconds: Int
    private let descriptor: Int32

    public static let defaultDevice = "/dev/cpu_dma_latency"

    /// The largest value the kernel accepts (its default, "no constraint", is 2,000,000,000 µs).
    public static let maximumMicroseconds = 2_000_000_000

    /// Opens `device` and writes the request (a 32-bit integer in host byte order, as the kernel
    /// reads it). The request holds until this value is deinitialised (the file is closed).
    /// - Throws: ``CPULatencyRequestError`` naming the device, the step and the errno.
    public init(microseconds: Int, device: String = CPULatencyRequest.defaultDevice) throws(CPULatencyRequestError) {
        guard (0...Self.maximumMicroseconds).contains(microseconds) else {
            throw .outOfRange(microseconds: microseconds)
        }
        let fd = open(device, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(device: device, step: "open", errno: errno) }
        var value = Int32(microseconds)  // ≤ 2,000,000,000 < Int32.max
        let written = withUnsafeBytes(of: &value) { write(fd, $0.baseAddress, $0.count) }
        guard written == MemoryLayout<Int32>.size else {
            let e = written < 0 ? errno : EIO
            close(fd)
            throw .system(device: device, step: "write", errno: e)
        }
        self.device = device
        self.microseconds = microseconds
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The request for a daemon's configuration value (µs), or the reason it could not be made
    /// (for the daemon's warning: it then runs without it).
    public static func request(microseconds: Int, device: String = defaultDevice) -> (request: CPULatencyRequest?, problem: String?) {
        do {
            return (try CPULatencyRequest(microseconds: microseconds, device: device), nil)
        } catch {
            return (nil, error.description)
        }
    }

    /// The machine's current aggregate CPU latency limit, µs (read from `device`; the kernel
    /// returns the smallest active request, or its default 2,000,000,000 without any), or nil if
    /// the device cannot be read.
    public static func currentLimit(device: String = CPULatencyRequest.defaultDevice) -> Int? {
        let fd = open(device, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var value: Int32 = 0
        let n = withUnsafeMutableBytes(of: &value) { read(fd, $0.baseAddress, $0.count) }
        return n == MemoryLayout<Int32>.size ? Int(value) : nil
    }
}

/// Why a ``CPULatencyRequest`` could not be made.
public enum CPULatencyRequestError: Error, Equatable, CustomStringConvertible {
    case outOfRange(microseconds: Int)
    case system(device: String, step: String, errno: Int32)

    public var description: String {
        switch self {
        case .outOfRange(let us):
            return "CPU latency limit \(us) µs is outside 0...\(CPULatencyRequest.maximumMicroseconds)"
        case .system(let device, let step, let e):
            return "\(step) \(device): \(String(cString: strerror(e)))" + (e == EACCES || e == EPERM ? " (needs root)" : "")
        }
    }
}
