/// What one render may use, so that no template (however written) can hang or flood a sending.
public struct RenderLimits: Sendable, Equatable {
    /// Loop iterations in one render, all loops together.
    public var loopIterations: Int
    /// Bytes of output.
    public var outputBytes: Int
    /// Wall time of one render.
    public var renderTime: Duration

    public init(loopIterations: Int = 100_000, outputBytes: Int = 2_000_000, renderTime: Duration = .milliseconds(200)) {
        self.loopIterations = loopIterations
        self.outputBytes = outputBytes
        self.renderTime = renderTime
    }
}
