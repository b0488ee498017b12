/// Messages per minute and per hour from one source IP to one destination: two sliding windows
/// kept as counts per second, so a limit holds over any minute or hour, not per calendar slot.
struct RateLimiter: Sendable {
    var perMinute: Int?
    var perHour: Int?
    /// Sends in the last hour: (second, count), oldest first.
    private var seconds: [(second: Int, count: Int)] = []

    init(perMinute: Int?, perHour: Int?) {
        self.perMinute = perMinute
        self.perHour = perHour
    }

    /// Takes one send at `now` (seconds) if the limits allow; otherwise the seconds to wait.
    mutating func take(at now: Double) -> Double? {
        let second = Int(now)
        if let first = seconds.first?.second, first <= second - 3600 { seconds.removeAll { $0.second <= second - 3600 } }
        if let perHour {
            let total = seconds.reduce(0) { $0 + $1.count }
            if total >= perHour, let oldest = seconds.first { return Double(oldest.second + 3600) - now }
        }
        if let perMinute {
            var inMinute = 0
            var oldestInMinute = second
            for entry in seconds.reversed() where entry.second > second - 60 {
                inMinute += entry.count
                oldestInMinute = entry.second
            }
            if inMinute >= perMinute { return Double(oldestInMinute + 60) - now }
        }
        if seconds.last?.second == second { seconds[seconds.count - 1].count += 1 } else { seconds.append((second, 1)) }
        return nil
    }
}
