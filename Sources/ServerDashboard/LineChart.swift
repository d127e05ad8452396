/// A line chart drawn on the server as SVG: no script, no outside fetch. Values are scaled to
/// the chart's box; a missing value breaks the line.
public struct LineChart {
    public var title: String
    public var unit: String
    public var points: [(at: Int64, value: Double?)]
    public var from: Int64
    public var to: Int64
    /// The top of the scale; nil: the largest value (at least 1).
    public var maxValue: Double?

    public static let width = 640.0, height = 160.0, left = 48.0, bottom = 20.0

    public init(title: String, unit: String, points: [(at: Int64, value: Double?)], from: Int64, to: Int64, maxValue: Double? = nil) {
        self.title = title
        self.unit = unit
        self.points = points
        self.from = from
        self.to = to
        self.maxValue = maxValue
    }

    /// The polylines' points, one list per unbroken run, as SVG coordinates.
    func runs() -> [[(x: Double, y: Double)]] {
        let top = maxValue ?? max(1, points.compactMap(\.value).filter(\.isFinite).max() ?? 1)
        let span = Double(max(1, to - from))
        let w = Self.width - Self.left, h = Self.height - Self.bottom
        var out: [[(x: Double, y: Double)]] = [], run: [(x: Double, y: Double)] = []
        for p in points {
            guard let v = p.value, v.isFinite else {
                if !run.isEmpty { out.append(run); run = [] }
                continue
            }
            let x = Self.left + w * Double(p.at - from) / span
            let y = h - h * min(max(v, 0), top) / top
            run.append(((x * 10).rounded() / 10, (y * 10).rounded() / 10))
        }
        if !run.isEmpty { out.append(run) }
        return out
    }

    public func svg() -> String {
        let top = maxValue ?? max(1, points.compactMap(\.value).filter(\.isFinite).max() ?? 1)
        let h = Self.height - Self.bottom
        var s = "<figure class=\"chart\"><figcaption>\(HTML.escape(title))</figcaption>"
        s += "<svg viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">"
        s += "<line class=\"axis\" x1=\"\(Self.left)\" y1=\"\(h)\" x2=\"\(Self.width)\" y2=\"\(h)\"/>"
        s += "<text x=\"\(Self.left - 4)\" y=\"10\" text-anchor=\"end\">\(HTML.escape(HTML.compact(top) + unit))</text>"
        s += "<text x=\"\(Self.left - 4)\" y=\"\(h)\" text-anchor=\"end\">0</text>"
        s += "<text x=\"\(Self.left)\" y=\"\(Self.height - 4)\">\(HTML.time(from))</text>"
        s += "<text x=\"\(Self.width)\" y=\"\(Self.height - 4)\" text-anchor=\"end\">\(HTML.time(to))</text>"
        for run in runs() {
            let pts = run.map { "\(HTML.number($0.x)),\(HTML.number($0.y))" }.joined(separator: " ")
            s += run.count == 1 ? "<circle cx=\"\(HTML.number(run[0].x))\" cy=\"\(HTML.number(run[0].y))\" r=\"2\"/>"
                : "<polyline points=\"\(pts)\"/>"
        }
        if points.allSatisfy({ $0.value == nil }) {
            s += "<text x=\"\(Self.width / 2)\" y=\"\(h / 2)\" text-anchor=\"middle\">no data</text>"
        }
        return s + "</svg></figure>"
    }
}
