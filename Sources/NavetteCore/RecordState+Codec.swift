extension RecordState {
    /// The state as a compact JSON value, for storage. Not a wire format:
    /// replicas exchange changes, never states.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [:]
        if let erasedAt {
            o["x"] = stampJSON(erasedAt)
            return .object(o)
        }
        o["s"] = .array(
            slots.keys.sorted().map { key in
                let slot = slots[key]!
                var s: [String: JSONValue] = ["f": .string(key.field)]
                if let k = key.key { s["k"] = .string(k) }
                if !slot.values.isEmpty {
                    s["v"] = .array(
                        slot.values.values.sorted { $0.id < $1.id }.map { v in
                            var a: [JSONValue] = [.string(v.id.description), .string(v.time.description)]
                            if let value = v.value { a.append(value) }
                            return .array(a)
                        })
                }
                if !slot.superseded.isEmpty {
                    s["p"] = .array(slot.superseded.sorted().map { .string($0.description) })
                }
                return .object(s)
            })
        if !writers.isEmpty { o["w"] = vvJSON(writers) }
        if !deletions.isEmpty { o["d"] = vvJSON(deletions) }
        if !erasures.isEmpty {
            o["e"] = .array(
                erasures.keys.sorted().map { k in
                    var e: [String: JSONValue] = ["f": .string(k.field), "t": stampJSON(erasures[k]!)]
                    if let key = k.key { e["k"] = .string(key) }
                    return .object(e)
                })
        }
        return .object(o)
    }

    /// The stored form: the bytes of `jsonValue.canonicalString`, written
    /// directly, with no dictionary built (stores write a state on every
    /// edit and every applied batch).
    public var storedString: String { String(decoding: storedBytes, as: UTF8.self) }

    /// ``storedString`` as UTF-8 bytes.
    public var storedBytes: [UInt8] { storedBytes(rawSlots: [], from: []) }

    /// ``storedBytes``, with the slots of `rawSlots` (sorted by key, none
    /// of them in ``slots``) written among this state's own as the bytes of
    /// `source` they name: slots of a stored state left unread.
    func storedBytes(rawSlots: [(key: SlotKey, range: Range<Int>)], from source: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + (rawSlots.isEmpty ? 0 : source.count))
        func key(_ name: StaticString) { JSONValue.writeMemberName(name, to: &out) }
        func comma() { out.append(UInt8(ascii: ",")) }
        func string(_ text: String) { JSONValue.writeString(text, to: &out) }
        func stamp(_ s: Stamp) {
            out.append(UInt8(ascii: "["))
            DirectWriter.quotedHex16(s.time.rawValue, to: &out)
            comma()
            DirectWriter.quotedHex16(s.node.rawValue, to: &out)
            out.append(UInt8(ascii: "]"))
        }
        /// Opens a slot's or erasure's object with its field and key.
        func openSlot(_ k: SlotKey) {
            out.append(UInt8(ascii: "{"))
            key("f")
            string(k.field)
            if let slotKey = k.key {
                comma()
                key("k")
                string(slotKey)
            }
        }
        func value(_ v: SlotValue) {
            out.append(UInt8(ascii: "["))
            DirectWriter.quoted(v.id, to: &out)
            comma()
            DirectWriter.quotedHex16(v.time.rawValue, to: &out)
            if let value = v.value {
                comma()
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        func counters(_ vv: [NodeID: UInt64]) {
            out.append(UInt8(ascii: "{"))
            for (i, (node, counter)) in vv.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { comma() }
                DirectWriter.quotedHex16(node.rawValue, to: &out)
                out.append(UInt8(ascii: ":"))
                DirectWriter.decimal(counter, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "{"))
        if let erasedAt {
            key("x")
            stamp(erasedAt)
            out.append(UInt8(ascii: "}"))
            return out
        }
        // Members in the order of their names: d, e, s, w.
        if !deletions.isEmpty {
            key("d")
            counters(deletions)
            comma()
        }
        if !erasures.isEmpty {
            key("e")
            out.append(UInt8(ascii: "["))
            for (i, (k, t)) in erasures.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { comma() }
                openSlot(k)
                comma()
                key("t")
                stamp(t)
                out.append(UInt8(ascii: "}"))
            }
            out.append(contentsOf: "],".utf8)
        }
        key("s")
        out.append(UInt8(ascii: "["))
        let own = slots.sorted(by: { $0.key < $1.key })
        var nextOwn = 0, nextRaw = 0
        while nextOwn < own.count || nextRaw < rawSlots.count {
            if nextOwn + nextRaw > 0 { comma() }
            if nextOwn == own.count || (nextRaw < rawSlots.count && rawSlots[nextRaw].key < own[nextOwn].key) {
                out.append(contentsOf: source[rawSlots[nextRaw].range])
                nextRaw += 1
                continue
            }
            let (k, slot) = own[nextOwn]
            nextOwn += 1
            openSlot(k)
            // Most slots hold one value and supersede at most one id: those
            // are written with no sorted copy made.
            if !slot.superseded.isEmpty {
                comma()
                key("p")
                out.append(UInt8(ascii: "["))
                if slot.superseded.count == 1 {
                    DirectWriter.quoted(slot.superseded.first!, to: &out)
                } else {
                    for (j, id) in slot.superseded.sorted().enumerated() {
                        if j > 0 { comma() }
                        DirectWriter.quoted(id, to: &out)
                    }
                }
                out.append(UInt8(ascii: "]"))
            }
            if !slot.values.isEmpty {
                comma()
                key("v")
                out.append(UInt8(ascii: "["))
                if slot.values.count == 1 {
                    value(slot.values.first!.value)
                } else {
                    for (j, v) in slot.values.values.sorted(by: { $0.id < $1.id }).enumerated() {
                        if j > 0 { comma() }
                        value(v)
                    }
                }
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        if !writers.isEmpty {
            comma()
            key("w")
            counters(writers)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Decodes a state written by ``jsonValue``.
    ///
    /// - Throws: ``ChangeDecodingError`` when the stored state is damaged.
    public init(json: JSONValue) throws {
        self.init()
        func bad() -> ChangeDecodingError { ChangeDecodingError("a stored record state is damaged") }
        guard case .object(let o) = json else { throw bad() }
        if let x = o["x"] {
            erasedAt = try stamp(x, bad)
            return
        }
        for s in o["s"]?.arrayValue ?? [] {
            guard let field = s["f"]?.stringValue else { throw bad() }
            let key = SlotKey(field: field, key: s["k"]?.stringValue)
            var slot = SlotState()
            for v in s["v"]?.arrayValue ?? [] {
                guard let a = v.arrayValue, a.count >= 2, let id = a[0].stringValue.flatMap(ChangeID.init),
                    let time = a[1].stringValue.flatMap(Timestamp.init)
                else { throw bad() }
                slot.values[id] = SlotValue(id: id, time: time, value: a.count > 2 ? a[2] : nil)
            }
            for p in s["p"]?.arrayValue ?? [] {
                guard let id = p.stringValue.flatMap(ChangeID.init) else { throw bad() }
                slot.superseded.insert(id)
            }
            slots[key] = slot
        }
        writers = try vv(o["w"], bad)
        deletions = try vv(o["d"], bad)
        for e in o["e"]?.arrayValue ?? [] {
            guard let field = e["f"]?.stringValue, let t = e["t"] else { throw bad() }
            erasures[SlotKey(field: field, key: e["k"]?.stringValue)] = try stamp(t, bad)
        }
    }
}

private func stampJSON(_ s: Stamp) -> JSONValue { [.string(s.time.description), .string(s.node.description)] }

private func stamp(_ v: JSONValue, _ bad: () -> ChangeDecodingError) throws -> Stamp {
    guard let a = v.arrayValue, a.count == 2, let t = a[0].stringValue.flatMap(Timestamp.init),
        let n = a[1].stringValue.flatMap(NodeID.init)
    else { throw bad() }
    return Stamp(time: t, node: n)
}

private func vvJSON(_ vv: [NodeID: UInt64]) -> JSONValue {
    .object(Dictionary(uniqueKeysWithValues: vv.map { ($0.key.description, JSONValue.counter($0.value)) }))
}

private func vv(_ v: JSONValue?, _ bad: () -> ChangeDecodingError) throws -> [NodeID: UInt64] {
    guard let v else { return [:] }
    guard let o = v.objectValue else { throw bad() }
    var out: [NodeID: UInt64] = [:]
    for (k, c) in o {
        guard let node = NodeID(k), let n = c.counterValue else { throw bad() }
        out[node] = n
    }
    return out
}
