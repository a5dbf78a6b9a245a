import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 between a node and a server, that can cut
/// connections after a number of bytes: the one network proxy of the test
/// suite, which link shaping and fault injection extend.
///
/// ```swift
/// let proxy = try await TCPProxy.start(upstreamPort: serverPort)
/// proxy.cutAfter(bytes: 2_000, direction: .toClient)   // the next connections break mid-answer
/// // point the node at http://127.0.0.1:\(proxy.port)
/// ```
public final class TCPProxy: Sendable {
    /// Which way the bytes counted for a cut flow.
    public enum Direction: Sendable, Hashable {
        /// From the node to the server (requests).
        case toServer
        /// From the server to the node (answers).
        case toClient
    }

    struct Fault: Sendable {
        var id: Int
        var bytes: Int
        var direction: Direction
        /// How many more connections the fault may claim (`nil`: all).
        var remaining: Int?
    }

    /// What the proxy does to one connection, chosen when it opens (see
    /// ``plan(_:)``): the faults of real links and middleboxes.
    public enum ConnectionFault: Sendable, Hashable, CustomStringConvertible {
        /// Closes both sides (FIN) once `after` bytes have flowed in `direction`.
        case cut(after: Int, Direction)
        /// Resets both sides (RST) once `after` bytes have flowed in `direction`.
        case reset(after: Int, Direction)
        /// Forwards `after` bytes in `direction`, then nothing more that way,
        /// leaving the connection open: the peer waits for its timeout.
        case stall(after: Int, Direction)
        /// Holds everything flowing in `direction` for this long first.
        case delay(Duration, Direction)
        /// Once the server answers, sends what the node sent on this
        /// connection again, on a second connection whose answers are
        /// dropped (a duplicating middlebox, or a replay).
        case duplicate
        /// Holds the node's request until `by` has passed, so that a retry
        /// on a new connection overtakes it (requests arrive reordered).
        case reorder(by: Duration)

        public var description: String {
            switch self {
            case .cut(let n, let d): "cut after \(n) bytes \(d)"
            case .reset(let n, let d): "reset after \(n) bytes \(d)"
            case .stall(let n, let d): "stall after \(n) bytes \(d)"
            case .delay(let t, let d): "delay \(t) \(d)"
            case .duplicate: "duplicate"
            case .reorder(let t): "reorder by \(t)"
            }
        }

        /// A random fault (or none, half the time) drawn from `rng`: what a
        /// seeded test plans for each connection.
        public static func random(using rng: inout SplitMix64, stall: Bool = true) -> ConnectionFault? {
            guard rng.chance(0.5) else { return nil }
            let direction: Direction = rng.chance(0.5) ? .toServer : .toClient
            let bytes = rng.pick([0, 1, 40, 200, 700, 1_500, 4_000, 12_000])
            switch rng.int(in: 0..<(stall ? 6 : 5)) {
            case 0: return .cut(after: bytes, direction)
            case 1: return .reset(after: bytes, direction)
            case 2: return .delay(.milliseconds(rng.int(in: 10...400)), direction)
            case 3: return .duplicate
            case 4: return .reorder(by: .milliseconds(rng.int(in: 50...600)))
            default: return .stall(after: bytes, direction)
            }
        }
    }

    let planner = Mutex<(@Sendable (Int) -> ConnectionFault?)?>(nil)
    let faultLog = Mutex<[(connection: Int, fault: ConnectionFault)]>([])

    /// Decides the fault of every connection opened from now on: `plan` gets
    /// the connection's number (from 1) and returns its fault, or `nil` for
    /// none. `plan(nil)` stops planning faults.
    public func plan(_ plan: (@Sendable (Int) -> ConnectionFault?)?) { planner.withLock { $0 = plan } }

    /// The faults planned so far, by connection number.
    public var plannedFaults: [(connection: Int, fault: ConnectionFault)] { faultLog.withLock { $0 } }

    /// A link to emulate: rates each way and round-trip latency. Loss is
    /// not emulated byte by byte; cuts (``cutAfter(bytes:direction:connections:)``)
    /// stand for the outages.
    public struct LinkProfile: Sendable, Hashable {
        public var name: String
        /// Node-bound (down) and server-bound (up) rates, in kilobits per second.
        public var downKbps: Double
        public var upKbps: Double
        /// Round-trip latency; each direction gets half.
        public var roundTrip: Duration

        public init(name: String, downKbps: Double, upKbps: Double, roundTrip: Duration) {
            self.name = name
            self.downKbps = downKbps
            self.upKbps = upKbps
            self.roundTrip = roundTrip
        }

        /// The profiles of `DOMAIN.md`.
        public static let twoG = LinkProfile(name: "2G", downKbps: 35, upKbps: 32, roundTrip: .milliseconds(1_300))
        public static let edge = LinkProfile(name: "Edge", downKbps: 240, upKbps: 200, roundTrip: .milliseconds(840))
        public static let threeG = LinkProfile(name: "3G", downKbps: 780, upKbps: 330, roundTrip: .milliseconds(200))
        public static let sharedADSL = LinkProfile(name: "shared ADSL", downKbps: 200, upKbps: 200, roundTrip: .milliseconds(50))

        /// The least time moving these bytes can take on this link, with
        /// this many request-answer round trips.
        public func floor(bytesDown: Int, bytesUp: Int, roundTrips: Int) -> Duration {
            let seconds = Double(bytesDown) * 8 / (downKbps * 1000) + Double(bytesUp) * 8 / (upKbps * 1000)
            return .nanoseconds(Int64(seconds * 1e9)) + roundTrip * roundTrips
        }
    }

    /// The port the proxy listens on.
    public let port: Int
    let profile = Mutex<LinkProfile?>(nil)

    /// Shapes the link from now on (`nil`: as fast as loopback).
    public func shape(_ p: LinkProfile?) { profile.withLock { $0 = p } }
    let channel: any Channel
    let fault = Mutex<Fault?>(nil)
    let counters = Mutex<(connections: Int, cut: Int, toServer: Int, toClient: Int)>((0, 0, 0, 0))
    let upstreams = Mutex<(ports: [Int], turn: Int)>(([], 0))

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    /// Starts a proxy to `upstreamHost:upstreamPort`.
    public static func start(upstreamHost: String = "127.0.0.1", upstreamPort: Int) async throws -> TCPProxy {
        try await start(upstreamHost: upstreamHost, upstreamPorts: [upstreamPort])
    }

    /// Starts a proxy that spreads connections over several upstream ports
    /// in turn, as a load balancer without session affinity in front of
    /// several server processes.
    public static func start(upstreamHost: String = "127.0.0.1", upstreamPorts: [Int]) async throws -> TCPProxy {
        let box = ProxyBox()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                guard let proxy = box.proxy, let port = proxy.nextUpstream() else { return inbound.close() }
                return proxy.connect(inbound, host: upstreamHost, port: port)
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        let proxy = TCPProxy(channel: channel, port: channel.localAddress?.port ?? 0)
        proxy.balance(over: upstreamPorts)
        box.proxy = proxy
        return proxy
    }

    /// Spreads new connections over `ports` in turn from now on (a proxy
    /// with none closes them): start the proxy first, and the servers with
    /// its URL as their public one.
    public func balance(over ports: [Int]) {
        upstreams.withLock { $0 = (ports, 0) }
    }

    func nextUpstream() -> Int? {
        upstreams.withLock { u in
            guard !u.ports.isEmpty else { return nil }
            defer { u.turn += 1 }
            return u.ports[u.turn % u.ports.count]
        }
    }

    /// Cuts connections — open ones included, up to `connections` of them
    /// (all, if `nil`) — once `bytes` more have flowed in `direction`.
    public func cutAfter(bytes: Int, direction: Direction, connections: Int? = nil) {
        fault.withLock { f in
            f = Fault(id: (f?.id ?? counters.withLock { $0.connections + $0.cut + 1_000_000 }) + 1, bytes: bytes, direction: direction, remaining: connections)
        }
    }

    /// The fault a connection that has not seen fault `seen` should now
    /// carry, claiming one of its connections.
    func claimFault(after seen: Int?) -> Fault? {
        fault.withLock { f in
            guard var current = f, current.id != seen else { return nil }
            if let r = current.remaining {
                current.remaining = r - 1
                f = r - 1 > 0 ? current : nil
            }
            return current
        }
    }

    /// Stops cutting connections.
    public func heal() { fault.withLock { $0 = nil } }

    /// Connections accepted, and how many were cut.
    public var connections: Int { counters.withLock { $0.connections } }
    public var cutConnections: Int { counters.withLock { $0.cut } }
    /// Bytes forwarded each way.
    public var bytesToServer: Int { counters.withLock { $0.toServer } }
    public var bytesToClient: Int { counters.withLock { $0.toClient } }

    /// Stops listening.
    public func stop() async throws { try await channel.close() }

    func connect(_ inbound: any Channel, host: String, port: Int) -> EventLoopFuture<Void> {
        let number = counters.withLock { c -> Int in
            c.connections += 1
            return c.connections
        }
        let planned = planner.withLock { $0 }?(number)
        if let planned { faultLog.withLock { $0.append((number, planned)) } }
        return ClientBootstrap(group: inbound.eventLoop)
            .connect(host: host, port: port)
            .flatMap { outbound in
                let link = Link(proxy: self)
                link.planned = planned
                link.upstream = (host, port)
                let toServer = Pipe(link: link, direction: .toServer)
                let toClient = Pipe(link: link, direction: .toClient)
                toServer.partner = outbound
                toClient.partner = inbound
                link.channels = [inbound, outbound]
                return inbound.pipeline.addHandler(toServer).flatMap {
                    outbound.pipeline.addHandler(toClient)
                }
            }
            .flatMapError { error in inbound.close().flatMapThrowing { throw error } }
    }
}

/// Lets the child initializer reach the proxy once it exists.
final class ProxyBox: @unchecked Sendable {
    // @unchecked because it is written once, before the first connection is accepted.
    var proxy: TCPProxy?
}

/// One proxied connection: both channels and the byte counts of the cut.
final class Link: @unchecked Sendable {
    // @unchecked because its state is only touched on the inbound channel's event loop
    // (the outbound channel is bootstrapped on the same loop).
    let proxy: TCPProxy
    var fault: TCPProxy.Fault?
    var channels: [any Channel] = []
    /// When each direction of the emulated link is free again, and when
    /// the last scheduled delivery happens.
    var nextFree: [TCPProxy.Direction: NIODeadline] = [:]
    var lastDelivery = NIODeadline.uptimeNanoseconds(0)
    /// Bytes flowed each way since the link took on its fault.
    var flowed: [TCPProxy.Direction: Int] = [:]
    var cut = false
    /// The fault planned for this connection, and what it needs.
    var planned: TCPProxy.ConnectionFault?
    var upstream: (host: String, port: Int) = ("127.0.0.1", 0)
    var plannedFlowed: [TCPProxy.Direction: Int] = [:]
    var stalled: Set<TCPProxy.Direction> = []
    var heldUntil: [TCPProxy.Direction: NIODeadline] = [:]
    var sentToServer: [ByteBuffer] = []
    var duplicated = false

    init(proxy: TCPProxy) {
        self.proxy = proxy
    }

    /// How many of `count` bytes may pass before the cut, if any.
    func allow(_ count: Int, _ direction: TCPProxy.Direction) -> Int {
        guard !cut else { return 0 }
        if let newer = proxy.claimFault(after: fault?.id) {
            fault = newer
            flowed = [:]
        }
        proxy.counters.withLock {
            if direction == .toServer { $0.toServer += count } else { $0.toClient += count }
        }
        let before = flowed[direction, default: 0]
        flowed[direction] = before + count
        guard let fault, fault.direction == direction, before + count > fault.bytes else { return count }
        cut = true
        proxy.counters.withLock { $0.cut += 1 }
        return max(0, fault.bytes - before)
    }

    func close() {
        for c in channels { c.close(promise: nil) }
    }

    /// Closes both sides with a reset: SO_LINGER 0, then close.
    func reset() {
        cut = true
        proxy.counters.withLock { $0.cut += 1 }
        for c in channels {
            guard let provider = c as? any SocketOptionProvider else {
                c.close(promise: nil)
                continue
            }
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in c.close(promise: nil) }
        }
    }

    /// What the planned fault lets through of `count` bytes in `direction`:
    /// how many to forward now, when (held), and what to do after.
    enum Verdict { case forward(Int, at: NIODeadline?), closeAfter(Int), resetAfter(Int) }

    func plannedVerdict(_ count: Int, _ direction: TCPProxy.Direction) -> Verdict {
        guard let planned else { return .forward(count, at: nil) }
        if stalled.contains(direction) { return .forward(0, at: nil) }
        let before = plannedFlowed[direction, default: 0]
        plannedFlowed[direction] = before + count
        switch planned {
        case .cut(let n, let d) where d == direction && before + count > n:
            cut = true
            proxy.counters.withLock { $0.cut += 1 }
            return .closeAfter(max(0, n - before))
        case .reset(let n, let d) where d == direction && before + count > n:
            return .resetAfter(max(0, n - before))
        case .stall(let n, let d) where d == direction && before + count > n:
            stalled.insert(direction)
            proxy.counters.withLock { $0.cut += 1 }
            return .forward(max(0, n - before), at: nil)
        case .delay(let t, let d) where d == direction:
            let until = heldUntil[direction] ?? (NIODeadline.now() + .nanoseconds(t.nanoseconds))
            heldUntil[direction] = until
            return .forward(count, at: until)
        case .reorder(let t) where direction == .toServer:
            let until = heldUntil[direction] ?? (NIODeadline.now() + .nanoseconds(t.nanoseconds))
            heldUntil[direction] = until
            return .forward(count, at: until)
        default:
            return .forward(count, at: nil)
        }
    }

    /// For a duplicating connection: once the server has answered, sends
    /// the node's bytes again on a new connection and drops its answers.
    func duplicateIfPlanned(on loop: any EventLoop) {
        guard planned == .duplicate, !duplicated, !sentToServer.isEmpty else { return }
        duplicated = true
        let bytes = sentToServer
        ClientBootstrap(group: loop)
            .channelInitializer { $0.pipeline.addHandler(Discard()) }
            .connect(host: upstream.host, port: upstream.port)
            .whenSuccess { channel in
                for b in bytes { channel.write(b, promise: nil) }
                channel.flush()
                loop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
            }
    }

    /// When `count` bytes sent now in `direction` reach the other side on
    /// the shaped link, or `nil` when the link is not shaped.
    func delivery(_ count: Int, _ direction: TCPProxy.Direction) -> NIODeadline? {
        guard let p = proxy.profile.withLock({ $0 }) else { return nil }
        let kbps = direction == .toClient ? p.downKbps : p.upKbps
        let now = NIODeadline.now()
        let start = max(now, nextFree[direction] ?? now)
        let transmit = TimeAmount.nanoseconds(Int64(Double(count) * 8 / (kbps * 1000) * 1e9))
        nextFree[direction] = start + transmit
        let half = p.roundTrip.components
        let oneWay = TimeAmount.nanoseconds((half.seconds * 1_000_000_000 + half.attoseconds / 1_000_000_000) / 2)
        lastDelivery = max(lastDelivery, start + transmit + oneWay)
        return start + transmit + oneWay
    }

    /// Closes both sides once the bytes still travelling have arrived (a
    /// side that closes normally), at once after a cut.
    func closeWhenDelivered(on loop: any EventLoop) {
        guard !cut, lastDelivery > .now() else { return close() }
        loop.scheduleTask(deadline: lastDelivery) { self.close() }
    }
}

/// Forwards what one side reads to the other side.
final class Pipe: ChannelDuplexHandler, @unchecked Sendable {
    // @unchecked because a handler lives on its channel's event loop.
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let link: Link
    let direction: TCPProxy.Direction
    var partner: (any Channel)?

    init(link: Link, direction: TCPProxy.Direction) {
        self.link = link
        self.direction = direction
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let partner else { return }
        if link.planned != nil {
            return plannedRead(context: context, buffer: &buffer, partner: partner)
        }
        let allowed = link.allow(buffer.readableBytes, direction)
        if allowed < buffer.readableBytes {
            if allowed > 0, let slice = buffer.readSlice(length: allowed) {
                partner.writeAndFlush(slice).whenComplete { _ in self.link.close() }
            } else {
                link.close()
            }
            return
        }
        if let at = link.delivery(buffer.readableBytes, direction) {
            context.eventLoop.scheduleTask(deadline: at) { partner.writeAndFlush(buffer, promise: nil) }
        } else {
            partner.writeAndFlush(buffer, promise: nil)
        }
    }

    /// Forwards under the connection's planned fault.
    func plannedRead(context: ChannelHandlerContext, buffer: inout ByteBuffer, partner: any Channel) {
        let count = buffer.readableBytes
        proxyCount(count)
        if direction == .toServer, link.planned == .duplicate { link.sentToServer.append(buffer) }
        if direction == .toClient { link.duplicateIfPlanned(on: context.eventLoop) }
        switch link.plannedVerdict(count, direction) {
        case .forward(let n, let at):
            guard n > 0, let slice = buffer.readSlice(length: n) else { return }
            if let at, at > .now() {
                context.eventLoop.scheduleTask(deadline: at) { partner.writeAndFlush(slice, promise: nil) }
            } else {
                partner.writeAndFlush(slice, promise: nil)
            }
        case .closeAfter(let n):
            if n > 0, let slice = buffer.readSlice(length: n) {
                partner.writeAndFlush(slice).whenComplete { _ in self.link.close() }
            } else {
                link.close()
            }
        case .resetAfter(let n):
            if n > 0, let slice = buffer.readSlice(length: n) {
                partner.writeAndFlush(slice).whenComplete { _ in self.link.reset() }
            } else {
                link.reset()
            }
        }
    }

    func proxyCount(_ count: Int) {
        link.proxy.counters.withLock {
            if direction == .toServer { $0.toServer += count } else { $0.toClient += count }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.closeWhenDelivered(on: context.eventLoop)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        link.close()
    }
}

/// Drops whatever it reads: the answers to a duplicated request.
final class Discard: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

extension Duration {
    var nanoseconds: Int64 {
        let c = components
        return c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
    }
}
