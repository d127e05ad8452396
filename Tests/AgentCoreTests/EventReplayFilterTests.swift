import AgentCore
import Testing

@Suite struct EventReplayFilterTests {
    static func offer(_ f: inout EventReplayFilter, time: DockerTimestamp, id: String, action: String) -> Bool {
        f.admit(time: time, id: id, action: action)
    }

    static func t(_ s: Int64, _ ms: Int32 = 0) -> DockerTimestamp { DockerTimestamp(seconds: s, nanos: ms * 1_000_000) }

    /// dockerd delivers events of concurrent operations out of time order (seen: 7 of 800 during
    /// a churn of 200 containers, up to 23 ms back): every one of them is handled.
    @Test func lateLiveEventsAreKept() {
        var f = EventReplayFilter()
        #expect(Self.offer(&f, time: Self.t(100, 50), id: "a", action: "die"))
        #expect(Self.offer(&f, time: Self.t(100, 27), id: "b", action: "start"), "23 ms older than the newest, still new")
        #expect(Self.offer(&f, time: Self.t(100, 50), id: "c", action: "die"), "the same time, another container")
        #expect(Self.offer(&f, time: Self.t(100, 50), id: "a", action: "destroy"), "the same time, another action")
        #expect(f.newest == Self.t(100, 50))
    }

    /// The overlap a reconnection asks for again is skipped, event by event.
    @Test func aReconnectionsOverlapIsSkipped() {
        var f = EventReplayFilter(overlapSeconds: 5)
        let live = [(Self.t(100), "a", "create"), (Self.t(101), "a", "start"), (Self.t(103), "b", "start"), (Self.t(102, 900), "a", "die")]
        for (t, id, action) in live { #expect(Self.offer(&f, time: t, id: id, action: action)) }
        #expect(f.since == Self.t(98))
        // The replay from `since`, in the daemon's order, then one event that happened meanwhile.
        for (t, id, action) in live { #expect(!Self.offer(&f, time: t, id: id, action: action), "\(id) \(action) replayed") }
        #expect(Self.offer(&f, time: Self.t(104), id: "b", action: "die"))
    }

    /// Memory follows the event rate: events older than the overlap behind the newest are
    /// forgotten, and never more than `capacity` are kept.
    @Test func rememberedEventsAreBounded() {
        var f = EventReplayFilter(overlapSeconds: 5, capacity: 100)
        for i in 0..<1_000 { _ = f.admit(time: Self.t(Int64(i)), id: "c", action: "start") }
        #expect(f.remembered == 6, "times 994...999")
        var g = EventReplayFilter(overlapSeconds: 5, capacity: 100)
        for i in 0..<1_000 { _ = g.admit(time: Self.t(7, Int32(i % 1000)), id: "c\(i)", action: "start") }
        #expect(g.remembered == 100)
    }
}
