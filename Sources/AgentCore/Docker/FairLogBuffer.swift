import DequeModule

/// Container log lines waiting for the next payload, held per container so that one flooding
/// container cannot push the others' lines out of it.
///
/// At most `budget` lines go into a payload. When more arrived, every container keeps its newest
/// lines and the cut falls on the containers holding the most: the kept counts are max-min fair
/// (a container at or under its fair share loses nothing, and the share a quiet container leaves
/// unused goes to the busy ones). Lines come out in arrival order. Between payloads at most
/// `budget + slack` lines are held: trimming costs a sort of the containers, so it runs once per
/// `slack` lines rather than once per line.
///
/// Every dropped line is counted, in `dropped` and in its container's `Counts`. Counts are kept
/// for at most `maxContainers` names; past that, names holding no line are forgotten first, and a
/// new name that still finds no room has its lines dropped and counted in `dropped` only.
public struct FairLogBuffer: Sendable {
    public struct Counts: Sendable, Equatable {
        public var streamed = 0
        public var dropped = 0
        public init(streamed: Int = 0, dropped: Int = 0) {
            self.streamed = streamed
            self.dropped = dropped
        }
    }

    struct Held: Sendable {
        var seq: UInt64
        var line: PendingLogLine
    }

    struct Container: Sendable {
        var held: Deque<Held> = []
        var counts = Counts()
        /// Removed from Docker: its counts go once its held lines are taken.
        var gone = false
    }

    public let budget: Int
    public let slack: Int
    public let maxContainers: Int
    private var containers: [String: Container] = [:]
    /// Lines held, across containers.
    public private(set) var held = 0
    /// Lines dropped since start, across containers (forgotten ones included).
    public private(set) var dropped = 0
    private var nextSeq: UInt64 = 0

    public init(budget: Int, maxContainers: Int = 10_000) {
        self.budget = max(0, budget)
        self.slack = max(64, self.budget / 4)
        self.maxContainers = max(1, maxContainers)
    }

    /// Adds one read's lines of one container, trimming when more than `budget + slack` are held.
    public mutating func add(_ lines: [PendingLogLine], container name: String) {
        guard !lines.isEmpty else { return }
        guard makeRoom(for: name) else { dropped += lines.count; return }
        containers[name]!.counts.streamed += lines.count
        guard budget > 0 else {
            containers[name]!.counts.dropped += lines.count
            dropped += lines.count
            return
        }
        let first = nextSeq
        containers[name]!.held.append(contentsOf: lines.indices.lazy.map { Held(seq: first + UInt64($0), line: lines[$0]) })
        nextSeq += UInt64(lines.count)
        held += lines.count
        if held > budget + slack { trim(to: budget) }
    }

    /// The container was removed: its lines still go out with the next payload, then its counts
    /// are forgotten.
    public mutating func forget(container name: String) {
        guard let c = containers[name] else { return }
        if c.held.isEmpty { containers[name] = nil } else { containers[name]!.gone = true }
    }

    /// Everything for the next payload (at most `budget` lines), in arrival order; empties the buffer.
    public mutating func take() -> [PendingLogLine] {
        trim(to: budget)
        var all: [Held] = []
        all.reserveCapacity(held)
        for (name, c) in containers where !c.held.isEmpty {
            all.append(contentsOf: c.held)
            if c.gone { containers[name] = nil } else { containers[name]!.held = [] } // a burst must not keep its memory
        }
        held = 0
        all.sort { $0.seq < $1.seq }
        return all.map(\.line)
    }

    /// Per-container counts, by name.
    public var counts: [String: Counts] { containers.mapValues(\.counts) }

    /// Whether `name` has (or now got) an entry.
    private mutating func makeRoom(for name: String) -> Bool {
        if containers[name] != nil { return true }
        if containers.count >= maxContainers {
            containers = containers.filter { !$0.value.held.isEmpty }
            if containers.count >= maxContainers { return false }
        }
        containers[name] = Container()
        return true
    }

    /// Cuts the held lines to `limit`, oldest first, from the containers holding the most.
    private mutating func trim(to limit: Int) {
        guard held > limit else { return }
        // The largest level T with sum(min(n_i, T)) <= limit; containers above it keep T lines,
        // and `extra` of them one more: those whose line at that position is the newest.
        let sizes = containers.values.map(\.held.count).filter { $0 > 0 }.sorted()
        var level = 0, below = 0, index = 0
        while index < sizes.count {
            let remaining = sizes.count - index
            let reach = below + sizes[index] * remaining
            if reach > limit { level = (limit - below) / remaining; break }
            below += sizes[index]
            index += 1
        }
        if index == sizes.count { return } // everything fits (not reached: held > limit)
        var extra = limit - below - level * (sizes.count - index)
        var over: [(name: String, seq: UInt64)] = []
        for (name, c) in containers where c.held.count > level {
            over.append((name, c.held[c.held.count - level - 1].seq))
        }
        over.sort { $0.seq > $1.seq }
        for (name, _) in over {
            let keep = level + (extra > 0 ? 1 : 0)
            if extra > 0 { extra -= 1 }
            let cut = containers[name]!.held.count - keep
            containers[name]!.held.removeFirst(cut)
            containers[name]!.counts.dropped += cut
            dropped += cut
            held -= cut
        }
    }
}
