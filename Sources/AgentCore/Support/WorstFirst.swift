/// The `limit` most severe of any number of offered elements, in O(limit) memory and
/// O(log limit) per offer: a binary heap whose root is the least severe element kept, so a flood
/// of candidates costs one comparison each once the heap is full. `offered` counts every element,
/// kept or not, so what was left out can be counted.
///
/// `worse(a, b)` is a strict weak ordering: true when `a` is more severe than `b`. Elements of
/// equal severity are kept first come, first kept.
public struct WorstFirst<Element> {
    public let limit: Int
    public private(set) var offered = 0
    private var heap: [Element] = []
    private let worse: (Element, Element) -> Bool

    public init(limit: Int, worse: @escaping (Element, Element) -> Bool) {
        self.limit = max(0, limit)
        self.worse = worse
    }

    /// Elements offered but not kept.
    public var leftOut: Int { offered - heap.count }

    public mutating func offer(_ e: Element) {
        offered += 1
        guard limit > 0 else { return }
        if heap.count < limit {
            heap.append(e)
            siftUp(heap.count - 1)
        } else if worse(e, heap[0]) {
            heap[0] = e
            siftDown(0)
        }
    }

    /// The kept elements, most severe first.
    public func sorted() -> [Element] {
        heap.sorted(by: worse)
    }

    // The heap order: a parent is never worse than its children (the root is the mildest kept).
    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard worse(heap[parent], heap[i]) else { return }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var mildest = i
            if l < heap.count, worse(heap[mildest], heap[l]) { mildest = l }
            if r < heap.count, worse(heap[mildest], heap[r]) { mildest = r }
            guard mildest != i else { return }
            heap.swapAt(i, mildest)
            i = mildest
        }
    }
}
