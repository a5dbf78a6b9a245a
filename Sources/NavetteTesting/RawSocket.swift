import NIOCore
import NIOPosix
import Synchronization

/// Writes raw bytes to a TCP port on 127.0.0.1 and collects what comes
/// back: for sending what no HTTP client would.
public enum RawSocket {
    /// Sends `bytes`, waits up to `wait` for the peer to answer or close,
    /// then closes; returns what the peer sent.
    @discardableResult
    public static func send(_ bytes: [UInt8], port: Int, wait: Duration = .milliseconds(150)) async throws -> [UInt8] {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { $0.pipeline.addHandler(collector) }
            .connect(host: "127.0.0.1", port: port).get()
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline, channel.isActive {
            try await Task.sleep(for: .milliseconds(5))
        }
        try? await channel.close().get()
        return collector.received.withLock { $0 }
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex<[UInt8]>([])
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0 += Array(buffer.readableBytesView) }
        }
    }
}
