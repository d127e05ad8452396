import AgentCore
import AgentDetect
@testable import AgentApp
import AgentServer
@testable import AgentShipping
import Foundation
import Logging
import TestSupport
import Testing

/// The README's recipes, followed: a new source is one type conforming to `SignalSource`, a new
/// detector one type conforming to `Detector`; listed beside the standard ones, they are timed,
/// counted and reported with no other change, and the detector's alert reaches the payload.
@Suite struct SeamTests {
    /// A toy source: a load-average reading as a named sample, one counter, one error per cycle.
    struct LoadSource: SignalSource {
        let name = "load"
        func collect(at time: CycleTime) async -> SourceBatch {
            var batch = SourceBatch(observations: Observations(samples: ["load1": 42]))
            batch.errors = [AgentError(.procParse, "toy parse error")]
            batch.counters = [SourceCounter("monitoring_agent_load_readings_total", "Load readings taken", 7)]
            return batch
        }
    }

    /// A toy detector: CPU_SPIKE whenever load1 is above 10; it holds the reading until the cycle ends.
    struct LoadDetector: Detector {
        var load: Double?
        mutating func observe(_ batch: Observations, at now: Int64) {
            if let l = batch.samples["load1"] { load = l }
        }
        func findings(at now: Int64) -> Findings {
            (load ?? 0) > 10 ? Findings(alerts: [Alert(.cpuSpike)], details: []) : Findings()
        }
        mutating func endCycle(at now: Int64) { load = nil }
    }

    @Test func aToySourceAndDetectorGoThroughTheSeams() async throws {
        let transport = ScriptedTransport([])
        let status = AgentStatus(startedAtUnix: 1_700_000_000)
        let collection = status.register(CollectionStatus())
        let shipper = makeShipper(transport, status: status)
        let settings = DetectorSettings(failedAuthThreshold: 5, authWindowSeconds: 60, baselineSamples: 3, cpuSpikePct: 90)
        let collector = CollectorService(
            identity: HostIdentity(host: "h", serverID: "s", env: "dev", ownerTeam: "t", agentVersion: "test"),
            interval: .seconds(1), sources: [LoadSource()],
            detectors: DetectorSet(Detectors.standard(settings) + [LoadDetector()]),
            shipper: shipper, status: collection, trims: status.register(TrimStatus()), clock: ContinuousClock(), wallClock: { 1_700_000_060 }, logger: Logger(label: "test"))
        await collector.cycle()
        await shipper.drain(until: ContinuousClock.now.advanced(by: .seconds(30)), retries: true, limit: 10)

        let payload = try PayloadCoding.decode(try #require(transport.sent.first).body)
        #expect(payload.localAlerts == ["CPU_SPIKE"] && payload.score == AlertRule.cpuSpike.weight)
        #expect(payload.metrics.cpuUsage == nil, "no host source: metrics are null, not zero")

        #expect(collection.value.sources["load"]?.errors == ["E_PROC_PARSE": 1])
        let report = status.report(nowUnix: 1_700_000_060)
        let health = String(decoding: ReportCoding.encode(report.health), as: UTF8.self)
        #expect(health.contains(#""sources":{"load":{"errors":1,"#), "\(health)")
        let metrics = String(decoding: PrometheusExporter(version: "t").render(report), as: UTF8.self)
        for line in [#"monitoring_agent_source_errors_total{source="load"} 1"#, "monitoring_agent_load_readings_total 7",
                     #"monitoring_agent_collector_errors_total{code="E_PROC_PARSE"} 1"#] {
            #expect(metrics.contains(line + "\n"), "missing: \(line)")
        }
        #expect(metrics.contains(#"monitoring_agent_collector_duration_seconds{collector="load"}"#))

        // The next cycle with nothing over the threshold: the toy detector's cycle ended.
        await collector.cycle()
        #expect(collection.value.lastAlerts == ["CPU_SPIKE"], "the source still reads 42")
    }

    /// Detectors answer the same when asked twice: findings change nothing, the cycle's end does.
    @Test func askingForFindingsChangesNothing() {
        let settings = DetectorSettings(failedAuthThreshold: 2, authWindowSeconds: 60, baselineSamples: 2, cpuSpikePct: 50)
        let set = DetectorSet(Detectors.standard(settings))
        for cpu in [5.0, 6.0] {
            set.observe(Observations(cpuUsage: cpu), at: 1000)
            _ = set.cycle(at: 1000)
        }
        set.observe(Observations(cpuUsage: 99, auth: [.failures("192.0.2.7", 2)]), at: 1000)
        let first = set.findings(at: 1000)
        #expect(first.alerts == [Alert(.cpuSpike), Alert(.bruteForce, subject: "192.0.2.7")])
        #expect(set.findings(at: 1000) == first)
        #expect(set.cycle(at: 1000) == first)
        #expect(set.findings(at: 1000).alerts == [Alert(.bruteForce, subject: "192.0.2.7")],
                "the CPU sample belonged to the cycle that ended; the failures stay in their window")
    }
}
