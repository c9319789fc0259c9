/// Eight-lane Float loads and stores at any alignment, for channel loops the compiler will not
/// vectorize on its own (it cannot prove the pointers do not alias).
public typealias Vec8 = SIMD8<Float>

extension UnsafePointer where Pointee == Float {
    @inline(__always) public func load8(_ i: Int = 0) -> Vec8 { UnsafeRawPointer(self + i).loadUnaligned(as: Vec8.self) }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) public func load8(_ i: Int = 0) -> Vec8 { UnsafeRawPointer(self + i).loadUnaligned(as: Vec8.self) }
    @inline(__always) public func store8(_ v: Vec8, _ i: Int = 0) { UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: Vec8.self) }
}
