internal import CMiniSEED
import Synchronization

/// The one place that calls libmseed 2.19 (Debian `libmseed-dev`).
///
/// ## Thread safety
/// libmseed 2 keeps process-global state: the log parameters and a `static` message buffer in
/// `ms_log`, and the environment-derived byte-order/encoding overrides that `msr_unpack` and
/// `msr_pack` initialise lazily on first use. Swift Testing, the CLI and the daemon call in from
/// several threads, so every libmseed call runs while holding ``lock``. The lock also guards the
/// captured log lines and the one reusable `MSRecord` used for decoding. An uncontended lock
/// costs tens of nanoseconds against microseconds for a record decode.
///
/// ## Diagnostics
/// `ms_loginit` routes libmseed's messages (normally printed to stderr) into ``State/log`` so
/// they become part of a ``MiniSEEDError``'s reason instead of spamming stderr.
///
/// libmseed also honours the `UNPACK_DATA_BYTEORDER`, `UNPACK_HEADER_BYTEORDER`,
/// `UNPACK_DATA_FORMAT(_FALLBACK)` and `PACK_*_BYTEORDER` environment variables, read once on
/// first use; they must not be set for this module's byte-order and encoding rules to hold.
///
/// ## Memory
/// Decoding reuses one `MSRecord` for the lifetime of the process (`msr_init` keeps its fixed
/// header and sample buffers and `realloc`s them). Per record libmseed still `malloc`s one small
/// link per blockette (`msr_addblockette`); nothing else is allocated when the sample buffer is
/// already large enough.
enum LibMSEED {
    /// `@unchecked Sendable`: the raw `MSRecord` pointer is only dereferenced while ``lock``
    /// is held, so it is never used by two threads at once.
    struct State: ~Copyable, @unchecked Sendable {
        var msr: UnsafeMutablePointer<MSRecord>? = nil
        var loggingInstalled = false
    }

    /// Serialises every libmseed call (see the type's documentation).
    static let lock = Mutex(State())

    /// libmseed log lines captured during the current locked call. Only touched while ``lock``
    /// is held (the log callback runs synchronously inside a locked libmseed call).
    nonisolated(unsafe) static var log: [String] = []

    static func installLogging(_ state: inout State) {
        if state.loggingInstalled { return }
        ms_loginit({ message in
            guard let message else { return }
            LibMSEED.log.append(LibMSEED.clean(String(cString: message)))
        }, nil, { message in
            guard let message else { return }
            LibMSEED.log.append(LibMSEED.clean(String(cString: message)))
        }, "")
        state.loggingInstalled = true
    }

    static func clean(_ s: String) -> String {
        var t = Substring(s)
        while let last = t.last, last == "\n" || last == " " { t = t.dropLast() }
        return String(t)
    }

    /// The captured log joined for an error reason, or `fallback` if nothing was logged.
    static func logText(or fallback: String) -> String {
        log.isEmpty ? fallback : log.joined(separator: "; ")
    }

    /// Outcome of decoding one record's data section.
    enum Decoded {
        case samples
        case text(String)
        case failure(MiniSEEDError)
    }

    /// Decodes the data section of a record whose header ``RecordHeaderParser`` accepted,
    /// writing numeric samples to `output[0..<header.sampleCount]` (as `Double`, exact for
    /// every integer and float encoding) or returning the text of a TEXT record.
    ///
    /// - Parameters:
    ///   - record: exactly `header.recordLength` bytes, starting at the record.
    ///   - output: room for `header.sampleCount` values (unused for TEXT records).
    /// - Complexity: O(samples). No allocation once the reusable `MSRecord`'s sample buffer is
    ///   large enough (see the type documentation).
    static func decode(record: UnsafeRawBufferPointer, header: RecordHeader, into output: UnsafeMutablePointer<Double>?) -> Decoded {
        guard let base = record.baseAddress, record.count == header.recordLength else {
            return .failure(MiniSEEDError(.truncatedRecord, reason: "record buffer has \(record.count) bytes, header says \(header.recordLength)"))
        }
        // libmseed takes `char *` but only reads the record (it copies the header and Steim frames).
        let recordPointer = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self))
        return lock.withLock { state -> Decoded in
            installLogging(&state)
            if !log.isEmpty { log.removeAll(keepingCapacity: true) }
            var msr = state.msr
            let rc = msr_unpack(recordPointer, Int32(header.recordLength), &msr, 1, 0)
            state.msr = msr
            guard let m = msr else {
                return .failure(MiniSEEDError(.decodeFailed, reason: logText(or: "libmseed could not allocate a record")))
            }
            if rc != MS_NOERROR {
                let code: MiniSEEDError.Code
                switch rc {
                case MS_UNKNOWNFORMAT: code = .unsupportedEncoding
                case MS_NOTSEED: code = .notMiniSEED
                default: code = .decodeFailed
                }
                let fallback = String(cString: ms_errorstr(rc))
                var error = MiniSEEDError(code, reason: "libmseed: " + logText(or: fallback))
                if log.contains(where: { $0.contains("only decoded") }) { error.code = .sampleCountMismatch }
                return .failure(error)
            }
            if let integrity = log.first(where: { $0.contains("integrity check") }) {
                return .failure(MiniSEEDError(.decodeFailed, field: "steim frames", reason: "libmseed: " + integrity))
            }
            let n = Int(m.pointee.numsamples)
            guard n == header.sampleCount, Int(m.pointee.samplecnt) == header.sampleCount else {
                return .failure(MiniSEEDError(.sampleCountMismatch,
                    reason: "header says \(header.sampleCount) samples, libmseed decoded \(n)"))
            }
            guard n > 0 else { return .samples }
            guard let data = m.pointee.datasamples else {
                return .failure(MiniSEEDError(.decodeFailed, reason: "libmseed returned no sample buffer"))
            }
            let type = UInt8(bitPattern: m.pointee.sampletype)
            if type == UInt8(ascii: "a") {
                return .text(String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self))
            }
            guard let output else {
                return .failure(MiniSEEDError(.decodeFailed, reason: "no output buffer for \(n) samples"))
            }
            switch type {
            case UInt8(ascii: "i"):
                let src = data.assumingMemoryBound(to: Int32.self)
                for i in 0..<n { output[i] = Double(src[i]) }
            case UInt8(ascii: "f"):
                let src = data.assumingMemoryBound(to: Float.self)
                for i in 0..<n { output[i] = Double(src[i]) }
            case UInt8(ascii: "d"):
                output.initialize(from: data.assumingMemoryBound(to: Double.self), count: n)
            default:
                return .failure(MiniSEEDError(.decodeFailed,
                    reason: "libmseed returned unknown sample type \(m.pointee.sampletype)"))
            }
            return .samples
        }
    }
}
