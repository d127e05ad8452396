extension Duration {
    /// The duration as seconds with a fraction (rates, timings in /metrics).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
