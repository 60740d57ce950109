/// A point in time as integer nanoseconds since 1970-01-01T00:00:00 UTC (no leap seconds).
///
/// This is libmseed 3's `nstime_t` convention. Integer nanoseconds make sample times exact for
/// every common sampling rate and keep arithmetic associative, so replay and live processing
/// compute identical times. libmseed 2's `hptime_t` (microseconds) converts exactly with
/// ``init(microsecondsSinceEpoch:)``.
///
/// The representable range is about ±292 years around 1970.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since 1970-01-01T00:00:00 UTC.
    public var nanosecondsSinceEpoch: Int64

    @inlinable
    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    /// Converts libmseed 2 `hptime_t` (microseconds since the epoch). Returns nil on overflow.
    @inlinable
    public init?(microsecondsSinceEpoch: Int64) {
        let (ns, overflow) = microsecondsSinceEpoch.multipliedReportingOverflow(by: 1000)
        if overflow { return nil }
        self.nanosecondsSinceEpoch = ns
    }

    /// Whole microseconds since the epoch, rounded to nearest (ties away from zero).
    public var microsecondsSinceEpoch: Int64 {
        let q = nanosecondsSinceEpoch / 1000
        let r = nanosecondsSinceEpoch % 1000
        if r >= 500 { return q + 1 }
        if r <= -500 { return q - 1 }
        return q
    }

    /// Seconds since the epoch as a `Double` (loses sub-microsecond precision for present-day times).
    public var secondsSinceEpoch: Double { Double(nanosecondsSinceEpoch) / 1e9 }

    /// Creates a timestamp from UTC calendar fields. Returns nil if a field is out of range.
    ///
    /// - Parameters:
    ///   - year: proleptic Gregorian year.
    ///   - month: 1...12.
    ///   - day: 1...days in that month.
    ///   - hour: 0...23. - minute: 0...59. - second: 0...60 (60 is accepted as in miniSEED and
    ///     counts as the first second of the next minute; leap seconds are not modelled).
    ///   - nanosecond: 0..<1_000_000_000.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, nanosecond: Int = 0) {
        guard (1...12).contains(month), day >= 1, day <= CivilCalendar.daysInMonth(year: year, month: month),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (0..<1_000_000_000).contains(nanosecond), (1700...2200).contains(year)
        else { return nil }
        let days = CivilCalendar.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.nanosecondsSinceEpoch = seconds * 1_000_000_000 + Int64(nanosecond)
    }

    /// Creates a timestamp from a year, a day of the year (1...366) and a time of day, as in SEED headers.
    public init?(year: Int, dayOfYear: Int, hour: Int, minute: Int, second: Int, nanosecond: Int) {
        let leap = CivilCalendar.isLeapYear(year)
        guard dayOfYear >= 1, dayOfYear <= (leap ? 366 : 365) else { return nil }
        guard let jan1 = Timestamp(year: year, month: 1, day: 1, hour: hour, minute: minute, second: second,
                                   nanosecond: nanosecond)
        else { return nil }
        self.nanosecondsSinceEpoch = jan1.nanosecondsSinceEpoch + Int64(dayOfYear - 1) * 86_400_000_000_000
    }

    /// UTC calendar fields of this instant.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanosecond: Int) {
        let ns = nanosecondsSinceEpoch
        var seconds = ns / 1_000_000_000
        var frac = ns % 1_000_000_000
        if frac < 0 { frac += 1_000_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secOfDay = seconds % 86_400
        if secOfDay < 0 { secOfDay += 86_400; days -= 1 }
        let (y, m, d) = CivilCalendar.civilFromDays(Int(days))
        return (y, m, d, Int(secOfDay / 3600), Int(secOfDay % 3600 / 60), Int(secOfDay % 60), Int(frac))
    }

    /// ISO-8601 UTC with fractional seconds, e.g. `2005-08-31T02:34:22.325000Z`.
    ///
    /// Six fractional digits (microseconds, as ObsPy prints them) unless the instant has
    /// sub-microsecond precision, in which case nine digits are written.
    public var iso8601: String {
        let c = components
        var out = ""
        out.reserveCapacity(30)
        out += Self.pad(c.year, 4) + "-" + Self.pad(c.month, 2) + "-" + Self.pad(c.day, 2)
        out += "T" + Self.pad(c.hour, 2) + ":" + Self.pad(c.minute, 2) + ":" + Self.pad(c.second, 2)
        if c.nanosecond % 1000 == 0 {
            out += "." + Self.pad(c.nanosecond / 1000, 6)
        } else {
            out += "." + Self.pad(c.nanosecond, 9)
        }
        return out + "Z"
    }

    public var description: String { iso8601 }

    /// Parses ISO-8601 UTC: `YYYY-MM-DDThh:mm:ss[.fffffffff][Z]`. Up to 9 fractional digits.
    /// A trailing `Z` is optional; other offsets are rejected. Returns nil on malformed input.
    public init?(iso8601 text: String) {
        var bytes = Array(text.utf8)
        if bytes.last == UInt8(ascii: "Z") { bytes.removeLast() }
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var v = 0
            for i in range {
                let b = bytes[i]
                guard b >= 48, b <= 57 else { return nil }
                v = v * 10 + Int(b - 48)
            }
            return v
        }
        guard let y = number(0..<4), let mo = number(5..<7), let d = number(8..<10),
              let h = number(11..<13), let mi = number(14..<16), let s = number(17..<19)
        else { return nil }
        var nanos = 0
        if bytes.count > 19 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count > 20, bytes.count - 20 <= 9,
                  let f = number(20..<bytes.count)
            else { return nil }
            nanos = f
            for _ in 0..<(9 - (bytes.count - 20)) { nanos *= 10 }
        }
        self.init(year: y, month: mo, day: d, hour: h, minute: mi, second: s, nanosecond: nanos)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// The instant `nanoseconds` later (earlier when negative).
    @inlinable
    public func adding(nanoseconds: Int64) -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: nanosecondsSinceEpoch &+ nanoseconds)
    }

    /// Signed difference `self - other` in nanoseconds.
    @inlinable
    public func nanoseconds(since other: Timestamp) -> Int64 {
        nanosecondsSinceEpoch &- other.nanosecondsSinceEpoch
    }

    /// Signed difference `self - other` in seconds.
    @inlinable
    public func seconds(since other: Timestamp) -> Double {
        Double(nanosecondsSinceEpoch &- other.nanosecondsSinceEpoch) / 1e9
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// Proleptic Gregorian calendar arithmetic (days since 1970-01-01), after H. Hinnant,
/// "chrono-Compatible Low-Level Date Algorithms" (days_from_civil / civil_from_days).
enum CivilCalendar {
    static func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
