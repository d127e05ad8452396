import AgentCore
import TestSupport
import Testing

@Suite struct FairLogBufferTests {
    static func lines(_ container: String, _ range: Range<Int>) -> [PendingLogLine] {
        range.map { i in
            PendingLogLine(container: container, line: DockerLogLine(stream: .stdout, timestamp: nil, bytes: Array("\(container)/\(i)".utf8)),
                           startsInPrivateKey: false, fallbackTimestamp: nil)
        }
    }

    static func texts(_ p: [PendingLogLine]) -> [String] { p.map { String(decoding: $0.line.bytes, as: UTF8.self) } }

    /// One container flooding cannot push the quiet ones' lines out: they keep every line, the
    /// flooder keeps its newest in the room left, and the payload is in arrival order.
    @Test func aFloodingContainerLosesItsOwnLinesOnly() {
        var b = FairLogBuffer(budget: 10)
        b.add(Self.lines("a", 0..<2), container: "a")
        b.add(Self.lines("flood", 0..<500), container: "flood")
        b.add(Self.lines("c", 0..<3), container: "c")
        b.add(Self.lines("flood", 500..<1000), container: "flood")
        let out = Self.texts(b.take())
        #expect(out == ["a/0", "a/1", "c/0", "c/1", "c/2", "flood/995", "flood/996", "flood/997", "flood/998", "flood/999"])
        #expect(b.counts["flood"] == .init(streamed: 1000, dropped: 995))
        #expect(b.counts["a"] == .init(streamed: 2, dropped: 0) && b.counts["c"] == .init(streamed: 3, dropped: 0))
        #expect(b.dropped == 995 && b.held == 0)
        #expect(b.take().isEmpty)
    }

    /// Equal floods share the budget equally; the odd line goes to the newest.
    @Test func equalFloodsShareTheBudget() {
        var b = FairLogBuffer(budget: 10)
        b.add(Self.lines("a", 0..<6), container: "a")
        b.add(Self.lines("b", 0..<6), container: "b")
        b.add(Self.lines("c", 0..<6), container: "c")
        #expect(Self.texts(b.take()) == ["a/3", "a/4", "a/5", "b/3", "b/4", "b/5", "c/2", "c/3", "c/4", "c/5"])
        #expect(b.counts.mapValues(\.dropped) == ["a": 3, "b": 3, "c": 2])
    }

    /// Random arrivals from up to 40 containers, checked at every take: at most `budget` lines;
    /// nothing dropped while everything fits, and the budget full when something was; each
    /// container's kept lines are its newest, in order; a container that lost lines keeps at least
    /// as many as any other but one (max-min fair); streamed = kept + dropped per container.
    @Test(arguments: [1, 7, 100, 500])
    func randomArrivalsStayFairAndBounded(budget: Int) {
        var rng = SplitMix64(seed: UInt64(budget))
        var b = FairLogBuffer(budget: budget)
        var next: [String: Int] = [:]
        var kept: [String: Int] = [:], dropped: [String: Int] = [:]
        for _ in 0..<200 {
            var arrived: [String: Int] = [:]
            var order: [String] = []
            for _ in 0..<Int(rng.next() % 60) {
                let name = "c\(rng.next() % 40)"
                let n = rng.next() % 4 == 0 ? Int(rng.next() % 300) : Int(rng.next() % 5) + 1
                let first = next[name, default: 0]
                let batch = Self.lines(name, first..<first + n)
                b.add(batch, container: name)
                order.append(contentsOf: Self.texts(batch))
                next[name] = first + n
                arrived[name, default: 0] += n
            }
            let out = b.take()
            let after = b.counts
            let total = arrived.values.reduce(0, +)
            #expect(out.count == min(total, budget))
            var byContainer: [String: [String]] = [:]
            for p in out { byContainer[p.container, default: []].append(String(decoding: p.line.bytes, as: UTF8.self)) }
            let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
            let positions = out.map { position[String(decoding: $0.line.bytes, as: UTF8.self)]! }
            #expect(positions == positions.sorted(), "arrival order")
            let maxKept = byContainer.values.map(\.count).max() ?? 0
            for (name, n) in arrived {
                let got = byContainer[name] ?? []
                let last = next[name]!
                #expect(got == (last - got.count..<last).map { "\(name)/\($0)" }, "\(name) keeps its newest")
                if got.count < n { #expect(got.count >= maxKept - 1, "\(name) lost lines with \(got.count) kept, others up to \(maxKept)") }
                kept[name, default: 0] += got.count
                dropped[name, default: 0] += n - got.count
            }
            for (name, c) in after {
                #expect(c.streamed == kept[name, default: 0] + dropped[name, default: 0] && c.dropped == dropped[name, default: 0])
            }
        }
        #expect(b.dropped == dropped.values.reduce(0, +))
    }

    /// A removed container's lines still go out; its counts go after them.
    @Test func forgottenContainersLeaveAfterTheirLines() {
        var b = FairLogBuffer(budget: 10)
        b.add(Self.lines("gone", 0..<2), container: "gone")
        b.add(Self.lines("idle", 0..<1), container: "idle")
        _ = b.take()
        b.forget(container: "idle")
        #expect(b.counts["idle"] == nil, "nothing held: forgotten at once")
        b.add(Self.lines("gone", 2..<3), container: "gone")
        b.forget(container: "gone")
        #expect(b.counts["gone"]?.streamed == 3)
        #expect(Self.texts(b.take()) == ["gone/2"])
        #expect(b.counts.isEmpty)
    }

    /// Counts are kept for `maxContainers` names: idle names make room; when none is idle, the new
    /// name's lines are dropped and counted in the total.
    @Test func namesAreBounded() {
        var b = FairLogBuffer(budget: 100, maxContainers: 3)
        for i in 0..<3 { b.add(Self.lines("c\(i)", 0..<1), container: "c\(i)") }
        b.add(Self.lines("late", 0..<4), container: "late")
        #expect(b.counts["late"] == nil && b.dropped == 4)
        _ = b.take()
        b.add(Self.lines("late", 4..<5), container: "late")
        #expect(b.counts.keys.sorted() == ["late"], "idle names forgotten to make room")
        #expect(Self.texts(b.take()) == ["late/4"])
    }

    /// `--max-log-entries 0`: no line goes out, every one is counted.
    @Test func zeroBudgetDropsAndCounts() {
        var b = FairLogBuffer(budget: 0)
        b.add(Self.lines("a", 0..<5), container: "a")
        #expect(b.take().isEmpty && b.dropped == 5 && b.counts["a"] == .init(streamed: 5, dropped: 5))
    }
}
