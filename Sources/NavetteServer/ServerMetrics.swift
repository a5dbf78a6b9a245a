import NavetteStore
import Prometheus

/// The server's metrics, in Prometheus form at `GET /metrics`: counts and
/// states only — never ids of people, values, or node ids.
///
/// | metric | what |
/// |---|---|
/// | `navette_syncs_total{kind}` | pushes and pulls answered |
/// | `navette_changes_in_total` / `navette_changes_out_total` | changes received in pushes, sent in pulls |
/// | `navette_refused_changes_total{reason}` | pushed changes refused, by reason |
/// | `navette_problems_total{type}` | requests refused, by problem type |
/// | `navette_nodes{status}` | enrolled nodes by status |
/// | `navette_nodes_by_clock_offset{offset}` | nodes by how far their clock was at their last request |
/// | `navette_erasures_pending` | erased files some laptop still holds |
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let pushes: Counter
    let pulls: Counter
    let changesIn: Counter
    let changesOut: Counter

    /// Each metric's name and `# HELP` text (computed: descriptors are not
    /// `Sendable`).
    enum Metric {
        static var syncs: MetricNameDescriptor {
            describe("syncs", "total", "Pushes and pulls answered, by kind.")
        }
        static var changesIn: MetricNameDescriptor {
            describe("changes_in", "total", "Changes received in pushes, duplicates included.")
        }
        static var changesOut: MetricNameDescriptor { describe("changes_out", "total", "Changes sent in pulls.") }
        static var refused: MetricNameDescriptor {
            describe("refused_changes", "total", "Pushed changes refused, by reason.")
        }
        static var problems: MetricNameDescriptor { describe("problems", "total", "Requests refused, by problem type.") }
        static var nodes: MetricNameDescriptor { describe("nodes", "", "Enrolled laptops, by status.") }
        static var nodesByOffset: MetricNameDescriptor {
            describe("nodes_by_clock_offset", "", "Enrolled laptops, by how far their clock was at their last request.")
        }
        static var erasuresPending: MetricNameDescriptor {
            describe("erasures_pending", "", "Erased files some laptop still holds.")
        }

        static func describe(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "navette", metricName: name, unitName: unit, helpText: help)
        }
    }

    init() {
        pushes = registry.makeCounter(descriptor: Metric.syncs, labels: [("kind", "push")])
        pulls = registry.makeCounter(descriptor: Metric.syncs, labels: [("kind", "pull")])
        changesIn = registry.makeCounter(descriptor: Metric.changesIn)
        changesOut = registry.makeCounter(descriptor: Metric.changesOut)
    }

    func pushed(_ changes: Int) {
        pushes.increment()
        changesIn.increment(by: Int64(changes))
    }

    func pulled(_ changes: Int) {
        pulls.increment()
        changesOut.increment(by: Int64(changes))
    }

    func refused(_ reason: String) {
        registry.makeCounter(descriptor: Metric.refused, labels: [("reason", reason)]).increment()
    }

    func problem(_ type: String) {
        registry.makeCounter(descriptor: Metric.problems, labels: [("type", type)]).increment()
    }

    /// The exposition text, with the gauges computed now from the registry.
    func exposition(_ all: [NodeRecord], erasuresPending: Int) -> [UInt8] {
        for status in ["active", "revoked"] {
            registry.makeGauge(descriptor: Metric.nodes, labels: [("status", status)])
                .set(Double(all.filter { $0.status.rawValue == status }.count))
        }
        func bucket(_ ms: Int64?) -> String {
            guard let ms else { return "unknown" }
            let s = abs(ms) / 1000
            return s < 60 ? "under-1m" : s < 3_600 ? "under-1h" : s < 86_400 ? "under-1d" : "over-1d"
        }
        for b in ["unknown", "under-1m", "under-1h", "under-1d", "over-1d"] {
            registry.makeGauge(descriptor: Metric.nodesByOffset, labels: [("offset", b)])
                .set(Double(all.filter { bucket($0.clockSkew) == b }.count))
        }
        registry.makeGauge(descriptor: Metric.erasuresPending).set(Double(erasuresPending))
        return registry.emitToBuffer()
    }
}
