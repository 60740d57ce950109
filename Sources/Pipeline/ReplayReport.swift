// A self-contained HTML report of a replay: waveforms with picks, magnitude evolution, and the
// targets of the first warning with predicted intensity and countdown (inline SVG, no scripts).

import Alerting
import EventBuilder
import Foundation
import Magnitude
public import Picking
public import SeismicCore
import SignalProcessing

/// Renders `report.html` for a replay (deterministic: data time only).
///
/// Waveforms are decimated to at most ``plotWidth`` min/max pairs per trace (the envelope of
/// every pixel column), so the file stays small for long records.
public enum ReplayReport {
    static let plotWidth = 900
    static let traceHeight = 70.0

    /// The HTML document for `segments` (the replayed input) and the replay's `outputs`.
    /// - Parameter picker: the picker settings; the characteristic-function rows recompute its
    ///   filter and recursive STA/LTA on each vertical channel (offline, whole segments).
    public static func html(title: String, segments: [SampleBlock], outputs: ReplayOutputs,
                            picker: GlitchRejectingPicker.Configuration = .init()) -> String {
        var body = ""
        body += "<h1>\(escape(title))</h1>\n"
        body += "<pre>\(escape(outputs.summary))</pre>\n"
        body += waveforms(segments, outputs: outputs, picker: picker)
        body += magnitudeEvolution(outputs.eventUpdates)
        body += targets(outputs.warningMessages)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font-family:sans-serif;margin:1em}svg{background:#fafafa;border:1px solid #ddd}\
            table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}\
            td:first-child,th:first-child{text-align:left}</style></head>
            <body>
            \(body)</body></html>

            """
    }

    private static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    private static func f(_ x: Double) -> String { ReplayOutputs.fixed(x, 1) }

    /// One trace per stream (sorted by id) on a common time axis, with pick times as red lines and
    /// S onsets as blue lines on the station's horizontal traces.
    static func waveforms(_ segments: [SampleBlock], outputs: ReplayOutputs,
                          picker: GlitchRejectingPicker.Configuration) -> String {
        guard let t0 = segments.map(\.startTime).min(), let t1 = segments.map(\.endTimeExclusive).max(),
              t1 > t0 else { return "<p>no waveforms</p>\n" }
        let span = t1.seconds(since: t0)
        // Rows: every stream's trace, and below each vertical its STA/LTA characteristic function.
        var rows: [(StreamID, Bool)] = []
        for id in Set(segments.map(\.streamID)).sorted() {
            rows.append((id, false))
            if id.component == "Z" || id.component == "3" { rows.append((id, true)) }
        }
        let width = Double(plotWidth)
        let height = traceHeight * Double(rows.count) + 20
        var svg = "<h2>Waveforms and picks</h2>\n<svg width=\"\(plotWidth + 160)\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(plotWidth + 160) \(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        // P picks (`"type":"pick"`, per stream) and S onsets (`"type":"S"`, per station: drawn on
        // the station's horizontal traces).
        var picks: [(String, Timestamp)] = []
        var sOnsets: [(String, Timestamp)] = []
        for line in outputs.picks {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let t = (o["time"] as? String).flatMap({ Timestamp(iso8601: $0) }) else { continue }
            switch o["type"] as? String {
            case "pick": if let s = o["stream"] as? String { picks.append((s, t)) }
            case "S": if let s = o["station"] as? String { sOnsets.append((s, t)) }
            default: break
            }
        }
        for (row, (id, isCF)) in rows.enumerated() {
            let y0 = traceHeight * Double(row) + traceHeight / 2
            let parts = isCF ? segments.filter { $0.streamID == id }.map { characteristicFunction($0, picker: picker) }
                             : segments.filter { $0.streamID == id }
            let peak = parts.flatMap(\.samples).map(abs).max() ?? 0
            let scale = peak > 0 ? (traceHeight / 2 - 4) / peak : 0
            var points = ""
            for seg in parts {
                // min/max per pixel column
                var column = -1
                var lo = 0.0, hi = 0.0
                func flush() {
                    guard column >= 0 else { return }
                    let x = 150 + Double(column)
                    points += f(x) + "," + f(y0 - hi * scale) + " " + f(x) + "," + f(y0 - lo * scale) + " "
                }
                for (i, v) in seg.samples.enumerated() {
                    let t = seg.time(ofSample: i).seconds(since: t0)
                    let c = min(plotWidth - 1, Int(t / span * width))
                    if c != column {
                        flush()
                        column = c
                        lo = v
                        hi = v
                    } else {
                        lo = min(lo, v)
                        hi = max(hi, v)
                    }
                }
                flush()
            }
            let label = isCF ? "STA/LTA " + id.channel : id.description
            svg += "<text x=\"2\" y=\"\(f(y0 + 4))\" font-size=\"11\">\(escape(label))</text>\n"
            if isCF, scale > 0 {
                let yOn = y0 - picker.trigger.onThreshold * scale
                if yOn > y0 - traceHeight / 2 {
                    svg += "<line x1=\"150\" x2=\"\(plotWidth + 150)\" y1=\"\(f(yOn))\" y2=\"\(f(yOn))\" "
                        + "stroke=\"#c80\" stroke-dasharray=\"4 3\"><title>trigger on \(f(picker.trigger.onThreshold))</title></line>\n"
                }
            }
            svg += "<polyline fill=\"none\" stroke=\"#333\" stroke-width=\"0.6\" points=\"\(points)\"/>\n"
            for (s, t) in picks where s == id.description {
                let x = 150 + t.seconds(since: t0) / span * width
                svg += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(y0 - traceHeight / 2))\" "
                    + "y2=\"\(f(y0 + traceHeight / 2))\" stroke=\"red\"><title>pick \(t.iso8601)</title></line>\n"
            }
            let horizontal = ["N", "E", "1", "2"].contains(id.component)
            for (s, t) in sOnsets where !isCF && horizontal && s == id.stationCode {
                let x = 150 + t.seconds(since: t0) / span * width
                svg += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(y0 - traceHeight / 2))\" "
                    + "y2=\"\(f(y0 + traceHeight / 2))\" stroke=\"#06c\" class=\"s-onset\"><title>S \(t.iso8601)</title></line>\n"
            }
        }
        svg += "<text x=\"150\" y=\"\(Int(height) - 4)\" font-size=\"11\">\(t0.iso8601)</text>"
        svg += "<text x=\"\(plotWidth + 150)\" y=\"\(Int(height) - 4)\" font-size=\"11\" text-anchor=\"end\">+\(f(span)) s</text>\n"
        return svg + "</svg>\n"
    }

    /// The picker's characteristic function recomputed offline on one segment: first sample
    /// subtracted, the picker's filter, recursive STA/LTA (0 during the LTA warm-up).
    public static func characteristicFunction(_ block: SampleBlock, picker: GlitchRejectingPicker.Configuration) -> SampleBlock {
        var out = block
        guard let first = block.samples.first else { return out }
        var x = block.samples.map { $0 - first }
        if var filter = try? picker.filter.makeFilter(samplingRateHz: block.samplingRateHz) {
            filter.process(&x)
        }
        guard var stalta = try? RecursiveSTALTA(staSeconds: picker.staSeconds, ltaSeconds: picker.ltaSeconds,
                                                samplingRateHz: block.samplingRateHz) else {
            out.samples = [Double](repeating: 0, count: x.count)
            return out
        }
        var cf = [Double](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { input in
            cf.withUnsafeMutableBufferPointer { output in stalta.process(input, into: output) }
        }
        out.samples = cf
        return out
    }

    /// Magnitude of every event message against its data time.
    static func magnitudeEvolution(_ updates: [EventUpdate]) -> String {
        let points = updates.compactMap { u in u.magnitude.map { (u.id, u.time, $0.magnitude) } }
        guard let first = points.first?.1, let last = points.last?.1 else { return "<h2>Magnitude</h2><p>no events</p>\n" }
        let span = max(last.seconds(since: first), 1)
        let mags = points.map(\.2)
        let lo = ((mags.min() ?? 0) - 0.5).rounded(.down), hi = ((mags.max() ?? 0) + 0.5).rounded(.up)
        let w = 600.0, h = 200.0
        var svg = "<h2>Magnitude evolution</h2>\n<svg width=\"680\" height=\"230\" viewBox=\"0 0 680 230\" "
            + "xmlns=\"http://www.w3.org/2000/svg\">\n"
        var ids: [String] = []
        for p in points where !ids.contains(p.0) { ids.append(p.0) }
        for id in ids {
            let line = points.filter { $0.0 == id }.map { p in
                f(60 + p.1.seconds(since: first) / span * w) + "," + f(10 + (hi - p.2) / (hi - lo) * h)
            }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#06c\" stroke-width=\"1.5\" points=\"\(line)\"><title>\(escape(id))</title></polyline>\n"
        }
        svg += "<text x=\"2\" y=\"16\" font-size=\"11\">M \(f(hi))</text><text x=\"2\" y=\"210\" font-size=\"11\">M \(f(lo))</text>\n"
        svg += "<text x=\"60\" y=\"226\" font-size=\"11\">\(first.iso8601)</text>"
        svg += "<text x=\"660\" y=\"226\" font-size=\"11\" text-anchor=\"end\">+\(f(span)) s</text>\n"
        return svg + "</svg>\n"
    }

    /// Colour of a warning level in the plots.
    static func colour(_ level: WarningLevel) -> String {
        switch level {
        case .none: "#bbb"
        case .blue: "#39f"
        case .yellow: "#ec0"
        case .orange: "#f80"
        case .red: "#d00"
        }
    }

    /// One row per target: a bar of the predicted intensity (China scale, 0–12, coloured by the
    /// warning level) and a bar of the S-wave countdown (seconds from the message's creation
    /// (data) time to the predicted S arrival; 0–max(30, largest) s), with the numbers printed.
    static func targetsPlot(_ m: WarningMessage) -> String {
        let rowHeight = 22.0, labelWidth = 260.0, barWidth = 250.0, gap = 40.0
        let maxCountdown = max(30, (m.targets.map(\.countdownSeconds).max() ?? 0).rounded(.up))
        let height = 30 + rowHeight * Double(m.targets.count) + 10
        let width = labelWidth + 2 * barWidth + gap + 80
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
            + "xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">\n"
        let x1 = labelWidth, x2 = labelWidth + barWidth + gap
        svg += "<text x=\"\(f(x1))\" y=\"14\">predicted intensity (0–12)</text>"
        svg += "<text x=\"\(f(x2))\" y=\"14\">S-wave countdown (0–\(f(maxCountdown)) s)</text>\n"
        for k in [0.0, 3, 6, 9, 12] {
            let x = x1 + k / 12 * barWidth
            svg += "<line x1=\"\(f(x))\" y1=\"20\" x2=\"\(f(x))\" y2=\"\(f(height - 8))\" stroke=\"#ddd\"/>"
        }
        svg += "\n"
        for (i, t) in m.targets.enumerated() {
            let y = 24 + rowHeight * Double(i)
            let intensity = min(max(t.predictedIntensity, 0), 12)
            let countdown = min(max(t.countdownSeconds, 0), maxCountdown)
            svg += "<text x=\"4\" y=\"\(f(y + 13))\">\(escape(t.name)) (\(f(t.epicentralDistanceKilometers)) km)</text>"
            svg += "<rect x=\"\(f(x1))\" y=\"\(f(y + 3))\" width=\"\(f(intensity / 12 * barWidth))\" height=\"14\" "
                + "fill=\"\(colour(t.warningLevel))\"><title>\(escape(t.warningLevel.rawValue))</title></rect>"
            svg += "<text x=\"\(f(x1 + intensity / 12 * barWidth + 4))\" y=\"\(f(y + 14))\">\(f(t.predictedIntensity))</text>"
            svg += "<rect class=\"countdown\" x=\"\(f(x2))\" y=\"\(f(y + 3))\" width=\"\(f(countdown / maxCountdown * barWidth))\" "
                + "height=\"14\" fill=\"#555\"/>"
            svg += "<text x=\"\(f(x2 + countdown / maxCountdown * barWidth + 4))\" y=\"\(f(y + 14))\">\(f(t.countdownSeconds)) s</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// The targets of the first and last warning of each event.
    static func targets(_ warnings: [WarningMessage]) -> String {
        guard !warnings.isEmpty else { return "<h2>Warnings</h2><p>no warnings</p>\n" }
        var html = "<h2>Warnings</h2>\n"
        var ids: [String] = []
        for m in warnings where !ids.contains(m.id) { ids.append(m.id) }
        for id in ids {
            let ms = warnings.filter { $0.id == id && $0.msgType != .cancel }
            guard let first = ms.first, let last = ms.last else { continue }
            for (label, m) in [("first (\(first.msgType.rawValue) #\(first.updateNumber))", first),
                               ("last (\(last.msgType.rawValue) #\(last.updateNumber))", last)] {
                html += "<h3>\(escape(id)) — \(escape(label)), M\(f(m.magnitude)), created \(m.createdTime.iso8601)</h3>\n"
                html += targetsPlot(m)
                html += "<table><tr><th>target</th><th>distance km</th><th>intensity</th><th>level</th>"
                    + "<th>S countdown s</th><th>S arrival</th></tr>\n"
                for t in m.targets {
                    html += "<tr><td>\(escape(t.name))</td><td>\(f(t.epicentralDistanceKilometers))</td>"
                        + "<td>\(f(t.predictedIntensity))</td><td>\(escape(t.warningLevel.rawValue))</td>"
                        + "<td>\(f(t.countdownSeconds))</td><td>\(t.sWaveArrivalTime.iso8601)</td></tr>\n"
                }
                html += "</table>\n"
                if first.updateNumber == last.updateNumber { break }
            }
        }
        return html
    }
}
