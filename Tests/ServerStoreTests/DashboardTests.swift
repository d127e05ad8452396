import AgentCore
import Foundation
import ServerDashboard
import ServerStore
import TestSupport
import Testing

/// The dashboard's pages from real rows: numbers as stored, hostile text escaped, stale hosts
/// marked, sorting and filtering, charts scaled to their box.
@Suite struct DashboardTests {
    /// Two hosts' payloads in a fresh store: web-1 now with a hostile log line, db-1 stale.
    static func database(_ kind: StoreKind) async throws -> (any PayloadStore, now: Int64, OpenStore) {
        let open = try await kind.open("dash")
        let db = open.store
        let now: Int64 = 1_796_100_000
        var web = PayloadDatabaseTests.payload("00000000-0000-4000-8000-00000000da01", timestamp: RFC3339.format(unixSeconds: now - 60))
        web.logs = [LogEntry(container: "api<x>", message: "<script>alert(1)</script> & \"quoted\"", timestamp: "t")]
        var db1 = PayloadDatabaseTests.payload("00000000-0000-4000-8000-00000000da02", timestamp: RFC3339.format(unixSeconds: now - 7_200))
        db1.host = "db-1"; db1.serverID = "srv-2"; db1.env = "staging"; db1.ownerTeam = "data"
        db1.metrics.cpuUsage = 12.5
        #expect(try await db.insert(web, body: try PayloadCoding.encode(web), receivedAt: now - 60, keyID: nil))
        #expect(try await db.insert(db1, body: try PayloadCoding.encode(db1), receivedAt: now - 7_200, keyID: nil))
        return (db, now, open)
    }

    @Test(arguments: StoreKind.allCases)
    func fleetPageShowsEachHostsNewestNumbersAndMarksStaleOnes(_ kind: StoreKind) async throws {
        let (db, now, open) = try await Self.database(kind)
        defer { open.close() }
        let hosts = try await db.fleet(now: now)
        #expect(hosts.map(\.serverID) == ["srv-2", "srv-1"], "by host name: db-1, web-1")
        let known = try await db.knows(serverID: "srv-2"), unknown = try await db.knows(serverID: "srv-3")
        #expect(known && !unknown, "the host page's 404 for an unknown id")
        #expect(hosts[1].cpu == 91.5 && hosts[1].alertsLastHour == 2 && hosts[0].alertsLastHour == 2 - 2, "db-1's alerts are older than an hour")
        let byCPU = Pages.fleetQuery(filter: nil, sort: "cpu", descending: true, page: nil, now: now)
        let html = Pages.fleet(try await db.fleet(byCPU, now: now), query: byCPU, now: now)
        let rows = html.components(separatedBy: "<tr class=").dropFirst()
        #expect(rows.count == 2 && rows.first!.contains("web-1") && rows.first!.contains(">91.5<"), "sorted by CPU, highest first")
        #expect(rows.last!.hasPrefix("\"stale\"") && rows.last!.contains("stale-mark"), "db-1 last seen 2 hours ago")
        #expect(!rows.first!.hasPrefix("\"stale\""))
        let staging = Pages.fleetQuery(filter: "STAG", sort: nil, descending: false, page: nil, now: now)
        let filtered = Pages.fleet(try await db.fleet(staging, now: now), query: staging, now: now)
        #expect(filtered.contains("db-1") && !filtered.contains(">web-1<") && filtered.contains("1 hosts, 1 stale"))
        #expect(filtered.contains("value=\"STAG\""), "the filter as typed")
    }

    /// 250 hosts: the store filters, sorts and pages them, and the page links to its neighbours
    /// with the same sort and filter; the counts are over every page.
    @Test(arguments: StoreKind.allCases)
    func fleetIsSortedFilteredAndPagedInTheStore(_ kind: StoreKind) async throws {
        let open = try await kind.open("pages")
        defer { open.close() }
        let db = open.store
        let now: Int64 = 1_796_100_000
        for i in 0..<250 {
            var p = PayloadDatabaseTests.payload(String(format: "00000000-0000-4000-8000-%012d", i), timestamp: RFC3339.format(unixSeconds: now - 30))
            p.host = String(format: "host-%03d", i); p.serverID = "srv-\(i)"; p.env = i % 5 == 0 ? "Prod-EU" : "staging"
            p.metrics.cpuUsage = Double((i * 37) % 250); p.localAlerts = Array(repeating: "CPU_SPIKE", count: i % 4)
            let seen = i % 10 == 0 ? now - 600 : now - 30
            #expect(try await db.insert(p, body: try PayloadCoding.encode(p), receivedAt: seen, keyID: nil))
        }
        let first = Pages.fleetQuery(filter: nil, sort: "cpu", descending: true, page: nil, now: now)
        let page1 = try await db.fleet(first, now: now)
        #expect(page1.total == 250 && page1.stale == 25 && page1.hosts.count == Pages.fleetPageSize)
        #expect(page1.hosts.map(\.cpu) == (150..<250).reversed().map { Optional(Double($0)) }, "the highest CPU of all 250 first")
        let html = Pages.fleet(page1, query: first, now: now)
        #expect(html.contains("1–100 of 250") && html.contains("href=\"/?sort=cpu&amp;desc=1&amp;page=2\"") && !html.contains("rel=\"prev\""))
        let third = Pages.fleetQuery(filter: nil, sort: "cpu", descending: true, page: "3", now: now)
        let page3 = try await db.fleet(third, now: now)
        #expect(page3.hosts.map(\.cpu) == (0..<50).reversed().map { Optional(Double($0)) })
        let html3 = Pages.fleet(page3, query: third, now: now)
        #expect(html3.contains("201–250 of 250") && html3.contains("page=2\">Previous") && !html3.contains("rel=\"next\""))
        let eu = Pages.fleetQuery(filter: "prod-eu", sort: "alerts", descending: true, page: nil, now: now)
        let euPage = try await db.fleet(eu, now: now)
        #expect(euPage.total == 50 && euPage.stale == 25 && euPage.hosts.allSatisfy { $0.env == "Prod-EU" })
        #expect(euPage.hosts.map(\.alertsLastHour) == euPage.hosts.map(\.alertsLastHour).sorted(by: >) && euPage.hosts.first?.alertsLastHour == 3)
        #expect(Pages.fleet(euPage, query: eu, now: now).contains("50 hosts, 25 stale"))
        let byHost = try await db.fleet(Pages.fleetQuery(filter: "HOST-24", sort: nil, descending: false, page: nil, now: now), now: now)
        #expect(byHost.hosts.map(\.host) == (240..<250).map { String(format: "host-%03d", $0) }, "ignoring case, by host name")
        let beyond = try await db.fleet(Pages.fleetQuery(filter: nil, sort: "seen", descending: false, page: "99", now: now), now: now)
        #expect(beyond.hosts.isEmpty && beyond.total == 250)
        #expect(Pages.fleetQuery(filter: nil, sort: "'; DROP TABLE hosts; --", descending: false, page: "-4", now: now) == FleetQuery(staleBefore: now - 120),
                "an unknown sort is the host name, a page below 1 the first")
    }

    /// A day of payloads, one a minute, charted in 100 points: every point the averages of its
    /// span, the points covering the whole day, every payload counted once.
    @Test(arguments: StoreKind.allCases)
    func chartsAverageSpansOverTheWholeRange(_ kind: StoreKind) async throws {
        let open = try await kind.open("series")
        defer { open.close() }
        let db = open.store
        let now: Int64 = 1_796_100_000, since = now - 86_400
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<1_440 {
                group.addTask {
                    var p = PayloadDatabaseTests.payload(String(format: "00000000-0000-4000-8000-%012d", i),
                                                         timestamp: RFC3339.format(unixSeconds: since + Int64(i) * 60))
                    p.metrics.cpuUsage = Double(i % 10); p.metrics.tcpConnections = i
                    return try await db.insert(p, body: try PayloadCoding.encode(p), receivedAt: since + Int64(i) * 60, keyID: nil)
                }
            }
            for try await stored in group { #expect(stored) }
        }
        let points = try await db.series(serverID: "srv-1", since: since, until: now, points: 100)
        let span = MetricPoint.span(since: since, until: now, points: 100)
        #expect(points.count <= 100 && points.count >= 99, "\(points.count) points")
        #expect(points.reduce(0) { $0 + $1.payloads } == 1_440, "every payload in one point")
        #expect(points.first?.at == since && (points.last?.at ?? 0) >= now - span, "the whole day, not its newest part")
        // The first span: payloads 0...(span - 1) / 60.
        let first = Array(0...Int((span - 1) / 60))
        #expect(points[0].payloads == first.count)
        #expect(abs((points[0].tcp ?? -1) - Double(first.reduce(0, +)) / Double(first.count)) < 1e-9)
        #expect(abs((points[0].cpu ?? -1) - Double(first.map { $0 % 10 }.reduce(0, +)) / Double(first.count)) < 1e-9)
        let hour = try await db.series(serverID: "srv-1", since: now - 3_600, until: now)
        #expect(hour.count == 60 && hour.allSatisfy { $0.payloads == 1 }, "an hour at one a minute: every payload its own point")
    }

    /// Container output and alert subjects are attacker-influenced: never markup on the page.
    @Test(arguments: StoreKind.allCases)
    func hostileTextIsEscapedEverywhere(_ kind: StoreKind) async throws {
        let (db, now, open) = try await Self.database(kind)
        defer { open.close() }
        let activity = try await db.containerActivity(serverID: "srv-1")
        let series = try await db.series(serverID: "srv-1", since: now - 86_400, until: now)
        #expect(series.count == 1 && series[0].cpu == 91.5 && series[0].tcp == 17 && series[0].rx == 1200)
        let alerts = try await db.alerts(serverID: "srv-1", since: now - 86_400)
        let html = Pages.host(serverID: "srv-1", range: Pages.rangeSeconds("24h"), now: now, series: series,
                              alerts: alerts, events: activity.events, logs: activity.logs)
        #expect(activity.events.map(\.text) == ["exec_start: sh"] && activity.logs.count == 1)
        #expect(!html.contains("<script") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;"))
        #expect(html.contains("api&lt;x&gt;"))
        let evil = Pages.fleet(FleetPage(hosts: [HostSummary(serverID: "\"><img src=x onerror=alert(1)>", host: "<b>h</b>", env: "e", ownerTeam: "t",
                                                             lastSeen: now, cpu: nil, memory: nil, disk: nil, score: 0, alertsLastHour: 0)],
                                         total: 1, stale: 0), query: FleetQuery(), now: now)
        #expect(!evil.contains("<img") && !evil.contains("<b>h") && evil.contains("&lt;b&gt;h&lt;/b&gt;"))
        let query = Pages.fleet(FleetPage(hosts: [], total: 0, stale: 0), query: FleetQuery(filter: "\"><script>"), now: now)
        #expect(!query.contains("<script") && query.contains("value=\"&quot;&gt;&lt;script&gt;\"") && query.contains("q=%22%3E%3Cscript%3E"))
        #expect(evil.contains("/hosts/%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"), "ids in links are percent-encoded")
    }

    @Test(arguments: StoreKind.allCases)
    func alertsCarryTheirDetailAndFilterByRuleAndHost(_ kind: StoreKind) async throws {
        let (db, now, open) = try await Self.database(kind)
        defer { open.close() }
        let brute = try await db.alerts(rule: "BRUTE_FORCE", since: now - 86_400)
        #expect(brute.count == 2 && brute.allSatisfy { $0.subject == "203.0.113.9" })
        // SQLite keeps the detail's text as sent, PostgreSQL's jsonb prints it with spaces.
        let failures = brute.first?.detail?.replacingOccurrences(of: " ", with: "").contains(#""failures":12"#)
        #expect(brute.first?.serverID == "srv-1" && failures == true, "newest first, with its detail")
        #expect(try await db.alerts(serverID: "srv-2", since: now - 86_400).count == 2)
        #expect(try await db.alerts(since: now - 3_600).count == 2, "the last hour: web-1's two")
        let html = Pages.alerts(brute, rules: AlertRule.allCases.map(\.rawValue), rule: "BRUTE_FORCE", serverID: nil, range: Pages.rangeSeconds("24h"))
        #expect(html.contains("<option selected>BRUTE_FORCE</option>") && html.contains("2 alerts"))
    }

    @Test func chartsScaleToTheirBoxAndBreakAtMissingValues() {
        let chart = LineChart(title: "CPU %", unit: "%", points: [(100, 0), (150, 50), (200, nil), (250, 100), (300, 100)],
                              from: 100, to: 300, maxValue: 100)
        let svg = chart.svg()
        #expect(svg.contains("<polyline points=\"48,140 196,70\"/>") && svg.contains("<polyline points=\"492,0 640,0\"/>"))
        let empty = LineChart(title: "t", unit: "", points: [(1, nil)], from: 0, to: 10).svg()
        #expect(empty.contains("no data") && !empty.contains("polyline"))
        let network = LineChart(title: "rx", unit: "", points: [(1, 122_473.3), (2, 10)], from: 0, to: 10).svg()
        #expect(network.contains(">122.5k</text>"), "a large top short enough for the axis' margin")
        #expect([HTML.compact(999), HTML.compact(99_999.91), HTML.compact(1_250_000), HTML.compact(3.2e9), HTML.compact(-4_500), HTML.compact(nil)]
                == ["999", "100k", "1.3M", "3.2G", "-4.5k", "–"])
        #expect(HTML.time(1_796_100_000) == "2026-12-01 04:40:00" && HTML.time(0) == "1970-01-01 00:00:00")
    }
}
