/// A first-in, first-out queue with O(1) amortised append and removal at the front.
struct Queue<Element> {
    private var storage: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }
    var first: Element? { isEmpty ? nil : storage[head] }

    mutating func append(_ e: Element) { storage.append(e) }

    mutating func prepend(_ e: Element) {
        if head > 0 {
            head -= 1
            storage[head] = e
        } else {
            storage.insert(e, at: 0)
        }
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let e = storage[head]
        head += 1
        if head > 1024 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return e
    }

    /// Changes the first element that matches `predicate`.
    mutating func withElement(where predicate: (Element) -> Bool, _ change: (inout Element) -> Void) {
        var i = head
        while i < storage.count {
            if predicate(storage[i]) {
                change(&storage[i])
                return
            }
            i += 1
        }
    }
}
