#if canImport(Glibc)
import Glibc
#endif

/// JSON text helpers shared by every module that writes JSON by hand (hot paths, canonical lines).
public enum JSONText {
    /// `text` as a JSON string literal, with the escapes RFC 8259 §7 requires (quote, backslash,
    /// and every control character below U+0020; `\n`, `\r`, `\t` in their short forms).
    public static func quoted(_ text: String) -> String {
        var out = ""
        appendQuoted(text, to: &out)
        return out
    }

    /// Appends `text` as a JSON string literal to `out`.
    public static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension Timestamp {
    /// The wall clock (CLOCK_REALTIME) now. Only for latency accounting at process boundaries:
    /// processing is driven by data time and never reads this.
    public static func wallClockNow() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(nanosecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }
}
