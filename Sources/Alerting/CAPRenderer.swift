public import SeismicCore
import Foundation

/// Renders a ``WarningMessage`` as an OASIS CAP 1.2 alert (`urn:oasis:names:tc:emergency:cap:1.2`),
/// valid against CAP-v1.2.xsd.
///
/// Mapping (alert block):
/// - `identifier` = `<id>-<updateNumber>`; `sender` = ``CAPConfiguration/sender``;
/// - `sent` = the message's ``WarningMessage/createdTime`` (the origination time; not `sentTime`,
///   which the forwarder sets later for latency accounting, so that later `references` always
///   repeat the exact `sent` of the earlier message) in whole seconds with the configured UTC
///   offset (CAP forbids fractional seconds and `Z`);
/// - `status` = Actual / Exercise / Test; `msgType` = Alert / Update / Cancel; `scope` = Public;
/// - `references` (Update and Cancel only, as CAP 1.2 §3.2.1 requires) = space-separated
///   `sender,identifier,sent` of every earlier message of the event.
///
/// Info block: `category` Geo, `event` "Earthquake early warning", `urgency` Immediate,
/// `responseType` Shelter (Alert/Update; drop, cover, hold on) or AllClear (Cancel), and
/// - `severity` from the highest target level: red → Extreme, orange → Severe, yellow → Moderate,
///   blue → Minor, none → Minor (felt shaking below every threshold); Cancel → Unknown;
/// - `certainty`: Alert/Update → Likely (a prediction from a few seconds of P wave: more likely
///   than not, not observed), Cancel → Unlikely; status Test → Unknown (nothing is predicted).
///   Exercise keeps the Actual mapping so a drill looks exactly like the real message.
/// - `onset` = origin time; `parameter`s: the source (`originTime`, `latitudeDegrees`,
///   `longitudeDegrees`, `depthKilometers`, `magnitude`, `magnitudeUncertainty`, `magnitudeType`,
///   `numberOfStations`, `updateNumber`, `createdTime`, `highestWarningLevel`) and one
///   `target` parameter per target: `name=…;kind=…;distanceKilometers=…;intensity=…;sigma=…;
///   sWaveArrivalTime=…;countdownSeconds=…;warningLevel=…` (UTC ISO-8601 times);
/// - `area`: `areaDesc` and a `circle` "lat,lon radius" (WGS-84 degrees, km) around the epicentre
///   whose radius is ``WarningPredictor/alertZoneRadiusKilometers(magnitude:)`` (where the
///   predicted intensity reaches the blue level, capped at
///   ``AlertingConfiguration/maximumAlertRadiusKilometers``), and at least the distance of every
///   target with a level above none.
public struct CAPRenderer: Sendable {
    public var cap: CAPConfiguration
    public var predictor: WarningPredictor

    public init(cap: CAPConfiguration, predictor: WarningPredictor) {
        self.cap = cap
        self.predictor = predictor
    }

    /// The CAP `identifier` of a message: `<id>-<updateNumber>`.
    public static func identifier(of message: WarningMessage) -> String { "\(message.id)-\(message.updateNumber)" }

    /// A CAP date-time `YYYY-MM-DDThh:mm:ss±hh:mm` (whole seconds, truncated) at `offsetMinutes`.
    /// Offsets are clamped to ±23:59 (the two-digit hour field).
    public static func capDateTime(_ time: Timestamp, utcOffsetMinutes: Int) -> String {
        let offsetMinutes = min(max(utcOffsetMinutes, -1439), 1439)
        var ns = time.nanosecondsSinceEpoch
        ns -= ((ns % 1_000_000_000) + 1_000_000_000) % 1_000_000_000  // floor to the second
        let local = Timestamp(nanosecondsSinceEpoch: ns &+ Int64(offsetMinutes) * 60_000_000_000)
        let c = local.components
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        let sign = offsetMinutes < 0 ? "-" : "+"
        let off = abs(offsetMinutes)
        return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2) + "T" + pad(c.hour, 2) + ":"
            + pad(c.minute, 2) + ":" + pad(c.second, 2) + sign + pad(off / 60, 2) + ":" + pad(off % 60, 2)
    }

    /// CAP `severity` of a message (see the type's documentation).
    public static func severity(of message: WarningMessage) -> String {
        if message.msgType == .cancel { return "Unknown" }
        switch message.highestWarningLevel {
        case .red: return "Extreme"
        case .orange: return "Severe"
        case .yellow: return "Moderate"
        case .blue, .none: return "Minor"
        }
    }

    /// CAP `certainty` of a message (see the type's documentation).
    public static func certainty(of message: WarningMessage) -> String {
        if message.status == .test { return "Unknown" }
        return message.msgType == .cancel ? "Unlikely" : "Likely"
    }

    /// Renders `message`; `earlier` are the previously issued messages of the same event (for
    /// `references`; ignored for an Alert).
    public func render(_ message: WarningMessage, earlier: [WarningMessage] = []) -> String {
        var w = XMLWriter()
        let offset = cap.utcOffsetMinutes
        w.start("alert", attributes: [("xmlns", "urn:oasis:names:tc:emergency:cap:1.2")])
        w.element("identifier", Self.identifier(of: message))
        w.element("sender", cap.sender)
        w.element("sent", Self.capDateTime(message.createdTime, utcOffsetMinutes: offset))
        w.element("status", message.status.rawValue)
        w.element("msgType", message.msgType.rawValue)
        w.element("scope", "Public")
        if message.msgType != .alert {
            let refs = earlier.filter { $0.id == message.id && $0.updateNumber < message.updateNumber }
                .sorted { $0.updateNumber < $1.updateNumber }
                .map { earlier in
                    let sent = Self.capDateTime(earlier.createdTime, utcOffsetMinutes: offset)
                    return cap.sender + "," + Self.identifier(of: earlier) + "," + sent
                }
            if !refs.isEmpty { w.element("references", refs.joined(separator: " ")) }
        }
        w.start("info")
        w.element("language", cap.language)
        w.element("category", "Geo")
        w.element("event", "Earthquake early warning")
        w.element("responseType", message.msgType == .cancel ? "AllClear" : "Shelter")
        w.element("urgency", "Immediate")
        w.element("severity", Self.severity(of: message))
        w.element("certainty", Self.certainty(of: message))
        w.element("onset", Self.capDateTime(message.originTime, utcOffsetMinutes: offset))
        if let name = cap.senderName { w.element("senderName", name) }
        w.element("headline", headline(message))
        w.element("description", description(message))
        w.element("instruction", message.msgType == .cancel
                  ? "The earlier earthquake early warning is cancelled. No action is needed."
                  : "Drop, cover and hold on. Stay away from windows; do not use lifts.")
        let source: [(String, String)] = [
            ("originTime", message.originTime.iso8601),
            ("latitudeDegrees", String(message.epicenter.latitudeDegrees)),
            ("longitudeDegrees", String(message.epicenter.longitudeDegrees)),
            ("depthKilometers", String(message.depthKilometers)),
            ("magnitude", String(message.magnitude)),
            ("magnitudeUncertainty", String(message.magnitudeUncertainty)),
            ("magnitudeType", message.magnitudeType),
            ("numberOfStations", String(message.numberOfStations)),
            ("updateNumber", String(message.updateNumber)),
            ("createdTime", message.createdTime.iso8601),
            ("highestWarningLevel", message.highestWarningLevel.rawValue),
        ]
        for (name, value) in source { parameter(&w, name, value) }
        for t in message.targets {
            let value = "name=\(t.name);kind=\(t.kind.rawValue);distanceKilometers=\(t.epicentralDistanceKilometers)"
                + ";intensity=\(t.predictedIntensity);sigma=\(t.predictedIntensitySigma)"
                + ";sWaveArrivalTime=\(t.sWaveArrivalTime.iso8601);countdownSeconds=\(t.countdownSeconds)"
                + ";warningLevel=\(t.warningLevel.rawValue)"
            parameter(&w, "target", value)
        }
        let latitude = formatDegrees(message.epicenter.latitudeDegrees)
        let longitude = formatDegrees(message.epicenter.longitudeDegrees)
        let radiusText = formatKilometers(radius(message))
        w.start("area")
        w.element("areaDesc", "Within \(radiusText) km of the epicentre (latitude \(latitude), longitude \(longitude))")
        // CAP 1.2 §3.3.3: circle = "lat,lon radius" (WGS-84 degrees, radius in km).
        w.element("circle", latitude + "," + longitude + " " + radiusText)
        w.end()
        w.end()
        w.end()
        return w.text
    }

    /// The alert-zone radius in km (see the type's documentation).
    public func radius(_ message: WarningMessage) -> Double {
        let modelled = predictor.alertZoneRadiusKilometers(magnitude: message.magnitude)
        let farthest = message.targets.filter { $0.warningLevel > .none }.map(\.epicentralDistanceKilometers).max() ?? 0
        return max(modelled, farthest)
    }

    private func parameter(_ w: inout XMLWriter, _ name: String, _ value: String) {
        w.start("parameter")
        w.element("valueName", name)
        w.element("value", value)
        w.end()
    }

    private func headline(_ m: WarningMessage) -> String {
        let kind = m.msgType == .cancel ? "CANCELLED: " : ""
        let drill = m.status == .exercise ? "DRILL: " : (m.status == .test ? "TEST: " : "")
        return drill + kind + "Earthquake early warning, magnitude \(String(format: "%.1f", m.magnitude))"
    }

    private func description(_ m: WarningMessage) -> String {
        let magnitude = String(format: "%.1f", m.magnitude)
        let uncertainty = String(format: "%.1f", m.magnitudeUncertainty)
        let depth = String(format: "%.0f", m.depthKilometers)
        var lines = ["Magnitude \(magnitude) ± \(uncertainty) (\(m.magnitudeType)), origin \(m.originTime.iso8601), "
                     + "epicentre latitude \(formatDegrees(m.epicenter.latitudeDegrees)), longitude "
                     + "\(formatDegrees(m.epicenter.longitudeDegrees)), depth \(depth) km, "
                     + "\(m.numberOfStations) station(s), report \(m.updateNumber)."]
        for t in m.targets {
            lines.append("\(t.name): intensity \(String(format: "%.1f", t.predictedIntensity)) (\(t.warningLevel.rawValue)), "
                         + "S wave in \(String(format: "%.1f", t.countdownSeconds)) s.")
        }
        return lines.joined(separator: "\n")
    }

    private func formatDegrees(_ v: Double) -> String { String(format: "%.4f", v) }
    private func formatKilometers(_ v: Double) -> String { String(format: "%.1f", v) }
}
