/// Eight-lane Float loads and stores at any alignment, for channel loops the compiler will not
/// vectorize on its own (it cannot prove the pointers do not alias).
public typealias Vec8 = SIMD8<Float>

extension UnsafePointer where Pointee == Float {
    @inlinable @inline(__always) public func load8(_ i: Int = 0) -> Vec8 { UnsafeRawPointer(self + i).loadUnaligned(as: Vec8.self) }

    /// The first `count` lanes from memory (all eight when count >= 8), the rest zero: for channel tails.
    @inlinable @inline(__always) public func load8(_ i: Int, count: Int) -> Vec8 {
        count >= 8 ? load8(i) : loadPartial8(self + i, count)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inlinable @inline(__always) public func load8(_ i: Int = 0) -> Vec8 { UnsafeRawPointer(self + i).loadUnaligned(as: Vec8.self) }
    @inlinable @inline(__always) public func load8(_ i: Int, count: Int) -> Vec8 { UnsafePointer(self).load8(i, count: count) }
    @inlinable @inline(__always) public func store8(_ v: Vec8, _ i: Int = 0) { UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: Vec8.self) }

    /// Stores the first `count` lanes (all eight when count >= 8).
    @inlinable @inline(__always) public func store8(_ v: Vec8, _ i: Int, count: Int) {
        if count >= 8 { store8(v, i) } else { storePartial8(v, self + i, count) }
    }
}

// The partial cases stay out of line: inlined, their lane-by-lane loops make LLVM keep every vector of
// the calling loop on the stack, which costs the full-width path several times its speed.
@usableFromInline @inline(never)
func loadPartial8(_ p: UnsafePointer<Float>, _ count: Int) -> Vec8 {
    var v = Vec8()
    for l in 0..<count { v[l] = p[l] }
    return v
}

@usableFromInline @inline(never)
func storePartial8(_ v: Vec8, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for l in 0..<count { p[l] = v[l] }
}
