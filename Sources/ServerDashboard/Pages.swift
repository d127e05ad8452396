import ServerStore

/// The dashboard's three pages, rendered to HTML from the database's reads. Pure functions of
/// their inputs (the tests render them from rows); `DashboardRoutes` serves them.
public enum Pages {
    /// A host whose newest payload is older than this is marked stale on the fleet page.
    public static let staleAfterSeconds: Int64 = 120
    /// Pages reload themselves this often (no script: a meta refresh).
    public static let refreshSeconds = 15

    /// The time ranges a host page and the alerts page offer.
    public static let ranges: [(name: String, seconds: Int64)] = [("1h", 3_600), ("24h", 86_400), ("7d", 604_800)]

    public static func rangeSeconds(_ name: String?) -> (name: String, seconds: Int64) {
        ranges.first { $0.name == name } ?? ranges[0]
    }

    static func layout(title: String, body: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="\(refreshSeconds)">
        <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="/favicon.svg"><title>\(HTML.escape(title)) · monitoring</title>
        <style>\(style)</style></head><body><header><nav><a href="/">Fleet</a> <a href="/alerts">Alerts</a></nav>
        <h1>\(HTML.escape(title))</h1></header><main>\(body)</main></body></html>
        """
    }

    /// The tab's icon, served from the binary like everything else.
    public static let favicon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#24292f"/>\
        <polyline points="2,11 6,7 9,10 14,4" fill="none" stroke="#fff" stroke-width="2"/></svg>
        """

    static let style = """
        body{font:14px system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}header{background:#24292f;color:#fff;padding:8px 16px}
        header a{color:#fff;margin-right:16px}h1{font-size:18px;margin:4px 0}main{padding:16px}table{border-collapse:collapse;background:#fff;width:100%}
        th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}th a{color:inherit}
        td.num{text-align:right;font-variant-numeric:tabular-nums}tr.stale td{color:#8c959f}.badge{background:#cf222e;color:#fff;border-radius:8px;padding:0 6px}
        .stale-mark{background:#bf8700;color:#fff;border-radius:8px;padding:0 6px}form{margin-bottom:12px}nav#pages{margin-top:8px}nav#pages a{margin-left:8px}
        .chart{display:inline-block;margin:0 16px 16px 0;background:#fff;padding:8px}.chart svg{width:640px;height:160px}
        .chart polyline{fill:none;stroke:#0969da;stroke-width:1.5}.chart circle{fill:#0969da}.chart .axis{stroke:#8c959f}
        .chart text{font-size:10px;fill:#57606a}pre{margin:0;white-space:pre-wrap;word-break:break-all;max-width:60em}
        """

    // MARK: fleet

    /// Hosts on one page of the fleet table.
    public static let fleetPageSize = 100

    /// The fleet table's columns: the sort each one's heading asks for, and its title.
    static let fleetColumns: [(sort: FleetQuery.Sort, title: String)] = [
        (.host, "Host"), (.env, "Env"), (.team, "Team"), (.seen, "Last seen"), (.cpu, "CPU %"), (.memory, "Memory %"),
        (.disk, "Disk %"), (.score, "Score"), (.alerts, "Alerts (1 h)"), (.key, "Key"),
    ]

    /// What a fleet URL asks for (`?q=&sort=&desc=1&page=`), pages counted from 1.
    public static func fleetQuery(filter: String?, sort: String?, descending: Bool, page: String?, now: Int64) -> FleetQuery {
        let number = min(max(1, page.flatMap { Int($0) } ?? 1), 1_000_000)
        return FleetQuery(filter: filter, sort: sort.flatMap(FleetQuery.Sort.init(rawValue:)) ?? .host, descending: descending,
                          offset: (number - 1) * fleetPageSize, limit: fleetPageSize, staleBefore: now - staleAfterSeconds)
    }

    /// One page of hosts, as the store filtered and sorted them for `query`, with links to sort
    /// by each column and to the pages before and after.
    public static func fleet(_ page: FleetPage, query: FleetQuery, now: Int64) -> String {
        let filter = query.filter ?? ""
        func link(sort: FleetQuery.Sort, descending: Bool, page: Int = 1) -> String {
            "/?sort=\(sort.rawValue)\(descending ? "&amp;desc=1" : "")\(filter.isEmpty ? "" : "&amp;q=" + HTML.queryValue(filter))"
                + (page > 1 ? "&amp;page=\(page)" : "")
        }
        let first = page.hosts.isEmpty ? 0 : query.offset + 1, last = query.offset + page.hosts.count
        var b = "<form method=\"get\" action=\"/\"><input type=\"search\" name=\"q\" value=\"\(HTML.escape(filter))\" placeholder=\"host, env or team\">"
        b += "<input type=\"hidden\" name=\"sort\" value=\"\(query.sort.rawValue)\">"
        if query.descending { b += "<input type=\"hidden\" name=\"desc\" value=\"1\">" }
        b += " <button>Filter</button> <span id=\"summary\">\(page.total) hosts, \(page.stale) stale</span></form><table id=\"fleet\"><thead><tr>"
        for c in fleetColumns {
            let current = c.sort == query.sort
            b += "<th><a href=\"\(link(sort: c.sort, descending: current && !query.descending))\">\(c.title)"
            b += "\(current ? (query.descending ? " ▼" : " ▲") : "")</a></th>"
        }
        b += "</tr></thead><tbody>"
        for h in page.hosts {
            let isStale = h.lastSeen < query.staleBefore
            b += "<tr class=\"\(isStale ? "stale" : "")\" data-server-id=\"\(HTML.escape(h.serverID))\">"
            b += "<td><a href=\"/hosts/\(HTML.queryValue(h.serverID))\">\(HTML.escape(h.host))</a>"
            if h.host != h.serverID { b += " <small>\(HTML.escape(h.serverID))</small>" }
            b += "</td><td>\(HTML.escape(h.env))</td><td>\(HTML.escape(h.ownerTeam))</td>"
            b += "<td>\(HTML.time(h.lastSeen))\(isStale ? " <span class=\"stale-mark\">stale</span>" : "")</td>"
            b += "<td class=\"num cpu\">\(HTML.number(h.cpu))</td><td class=\"num memory\">\(HTML.number(h.memory))</td>"
            b += "<td class=\"num disk\">\(HTML.number(h.disk))</td><td class=\"num score\">\(HTML.number(h.score))</td>"
            b += "<td class=\"num alerts\">\(h.alertsLastHour > 0 ? "<span class=\"badge\">\(h.alertsLastHour)</span>" : "0")</td>"
            b += "<td class=\"key\">\(HTML.escape(h.keyID ?? "–"))</td></tr>"
        }
        b += "</tbody></table>"
        let number = query.offset / max(1, query.limit) + 1
        b += "<nav id=\"pages\"><span>\(first)–\(last) of \(page.total)</span>"
        if number > 1 { b += " <a rel=\"prev\" href=\"\(link(sort: query.sort, descending: query.descending, page: number - 1))\">Previous</a>" }
        if last < page.total { b += " <a rel=\"next\" href=\"\(link(sort: query.sort, descending: query.descending, page: number + 1))\">Next</a>" }
        b += "</nav>"
        return layout(title: "Fleet", body: b)
    }

    // MARK: host

    public static func host(serverID: String, range: (name: String, seconds: Int64), now: Int64, series: [MetricPoint],
                            alerts: [AlertRow], events: [ContainerRow], logs: [ContainerRow]) -> String {
        let from = now - range.seconds
        var b = "<p>Range: " + ranges.map { r in
            r.name == range.name ? "<strong>\(r.name)</strong>" : "<a href=\"/hosts/\(HTML.queryValue(serverID))?range=\(r.name)\">\(r.name)</a>"
        }.joined(separator: " · ") + " · \(series.reduce(0) { $0 + $1.payloads }) payloads</p><section id=\"charts\">"
        func chart(_ title: String, _ unit: String, max: Double? = nil, _ value: (MetricPoint) -> Double?) -> String {
            LineChart(title: title, unit: unit, points: series.map { ($0.at, value($0)) }, from: from, to: now, maxValue: max).svg()
        }
        b += chart("CPU %", "%", max: 100) { $0.cpu }
        b += chart("Memory %", "%", max: 100) { $0.memory }
        b += chart("Disk %", "%", max: 100) { $0.disk }
        b += chart("Network received, bytes/s", "") { $0.rx }
        b += chart("Network sent, bytes/s", "") { $0.tx }
        b += chart("TCP connections", "") { $0.tcp }
        b += "</section><h2>Alerts</h2>" + alertTable(alerts, showHost: false)
        b += "<h2>Container events</h2>" + containerTable(events, header: "Event")
        b += "<h2>Container logs</h2>" + containerTable(logs, header: "Line (masked by the agent)")
        let name = alerts.first?.host ?? serverID
        return layout(title: "Host \(name)", body: b)
    }

    static func containerTable(_ rows: [ContainerRow], header: String) -> String {
        guard !rows.isEmpty else { return "<p>None.</p>" }
        var b = "<table><thead><tr><th>Time</th><th>Container</th><th>\(header)</th></tr></thead><tbody>"
        for r in rows {
            b += "<tr><td>\(HTML.time(r.at))</td><td>\(HTML.escape(r.container))</td><td><pre>\(HTML.escape(r.text))</pre></td></tr>"
        }
        return b + "</tbody></table>"
    }

    // MARK: alerts

    public static func alerts(_ rows: [AlertRow], rules: [String], rule: String?, serverID: String?, range: (name: String, seconds: Int64)) -> String {
        var b = "<form method=\"get\" action=\"/alerts\"><select name=\"rule\"><option value=\"\">every rule</option>"
        for r in rules { b += "<option\(r == rule ? " selected" : "")>\(HTML.escape(r))</option>" }
        b += "</select> <input type=\"search\" name=\"host\" value=\"\(HTML.escape(serverID ?? ""))\" placeholder=\"server id\"> <select name=\"range\">"
        for r in ranges { b += "<option\(r.name == range.name ? " selected" : "")>\(r.name)</option>" }
        b += "</select> <button>Filter</button> <span id=\"summary\">\(rows.count) alerts</span></form>"
        return layout(title: "Alerts", body: b + alertTable(rows, showHost: true))
    }

    static func alertTable(_ rows: [AlertRow], showHost: Bool) -> String {
        guard !rows.isEmpty else { return "<p>None.</p>" }
        var b = "<table class=\"alerts\"><thead><tr><th>Time</th>\(showHost ? "<th>Host</th>" : "")<th>Rule</th><th>Subject</th><th>Detail</th></tr></thead><tbody>"
        for r in rows {
            b += "<tr><td>\(HTML.time(r.at))</td>"
            if showHost { b += "<td><a href=\"/hosts/\(HTML.queryValue(r.serverID))\">\(HTML.escape(r.host))</a></td>" }
            b += "<td class=\"rule\">\(HTML.escape(r.rule))</td><td class=\"subject\">\(HTML.escape(r.subject ?? ""))</td>"
            b += "<td><pre>\(HTML.escape(r.detail ?? ""))</pre></td></tr>"
        }
        return b + "</tbody></table>"
    }
}
