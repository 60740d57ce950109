// JSON-ready encodings of the decision log and event messages (times as ISO-8601 UTC strings),
// for the replay's events.jsonl / decisions.jsonl.

import Magnitude
import SeismicCore

extension Decision: Encodable {
    private enum CodingKeys: String, CodingKey { case time, kind, eventID = "eventId", station, reason, values }
    private enum ValueKeys: String, CodingKey { case name, value }

    /// `{"time","kind","eventId"?,"station"?,"reason","values":[{"name","value"}…]}`; the values keep
    /// their order (an array, not an object, so the output is deterministic without key sorting).
    /// Non-finite values are encoded as `null`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(time.iso8601, forKey: .time)
        try c.encode(kind.rawValue, forKey: .kind)
        try c.encodeIfPresent(eventID, forKey: .eventID)
        try c.encodeIfPresent(station, forKey: .station)
        try c.encode(reason, forKey: .reason)
        var list = c.nestedUnkeyedContainer(forKey: .values)
        for v in values {
            var item = list.nestedContainer(keyedBy: ValueKeys.self)
            try item.encode(v.name, forKey: .name)
            if v.value.isFinite { try item.encode(v.value, forKey: .value) } else { try item.encodeNil(forKey: .value) }
        }
    }
}

extension EventUpdate: Encodable {
    private enum CodingKeys: String, CodingKey {
        case id, updateNumber, msgType, time, originTime, originTimeSigmaSeconds, latitude, longitude, depthKilometers,
             horizontalSigmaKilometers, locationKind, magnitude, magnitudeSigma, magnitudeIsLowerBound, stations, reason
    }

    /// Flat object: `id, updateNumber, msgType (Alert/Update/Cancel), time, originTime,
    /// originTimeSigmaSeconds?, latitude, longitude, depthKilometers, horizontalSigmaKilometers?,
    /// locationKind, magnitude?, magnitudeSigma?, magnitudeIsLowerBound, stations, reason`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(updateNumber, forKey: .updateNumber)
        try c.encode(messageType.rawValue, forKey: .msgType)
        try c.encode(time.iso8601, forKey: .time)
        try c.encode(originTime.iso8601, forKey: .originTime)
        try c.encodeIfPresent(originTimeSigmaSeconds, forKey: .originTimeSigmaSeconds)
        try c.encode(epicenter.latitudeDegrees, forKey: .latitude)
        try c.encode(epicenter.longitudeDegrees, forKey: .longitude)
        try c.encode(depthKilometers, forKey: .depthKilometers)
        if let h = horizontalSigmaKilometers, h.isFinite { try c.encode(h, forKey: .horizontalSigmaKilometers) }
        try c.encode(locationKind.rawValue, forKey: .locationKind)
        try c.encodeIfPresent(magnitude?.magnitude, forKey: .magnitude)
        try c.encodeIfPresent(magnitude?.sigma, forKey: .magnitudeSigma)
        try c.encode(magnitudeIsLowerBound, forKey: .magnitudeIsLowerBound)
        try c.encode(stations, forKey: .stations)
        try c.encode(reason, forKey: .reason)
    }
}
