import BTCore
import Datasets
import Foundation
import XCTest

final class NpyTests: XCTestCase {
    /// Runs a numpy script with `d` bound to the directory; skips when numpy is missing.
    func numpy(_ script: String, in dir: String) throws {
        guard haveNumpy else { throw XCTSkip("python3 with numpy not available") }
        let (rc, out) = try runPython(["-c", "import numpy as np, sys; d = sys.argv[1]\n" + script, dir])
        XCTAssertEqual(rc, 0, out)
    }

    func testReadsWhatNumpyWrites() throws {
        let dir = try makeTempDir(self)
        try numpy("""
            a = np.arange(3*3*2*4, dtype='<f4').reshape(3,3,2,4) * 0.5 - 7
            np.save(d + '/f4.npy', a)
            np.save(d + '/scalar.npy', np.float32(2.5))
            np.save(d + '/vec.npy', np.array([1, -2, 3.25, 1e-8, 3e38], dtype='<f4'))
            np.save(d + '/f8.npy', a.astype('<f8') / 3)
            np.save(d + '/be4.npy', a.astype('>f4'))
            np.save(d + '/be8.npy', (a.astype('<f8') / 3).astype('>f8'))
            np.save(d + '/fortran.npy', np.asfortranarray(a))
            np.save(d + '/empty.npy', np.zeros((0, 3), dtype='<f4'))
            np.lib.format.write_array(open(d + '/v2.npy', 'wb'), a, version=(2, 0))
            np.lib.format.write_array(open(d + '/v3.npy', 'wb'), a, version=(3, 0))
            np.save(d + '/i4.npy', np.arange(4, dtype='<i4'))
            np.save(d + '/obj.npy', np.array([{}], dtype=object), allow_pickle=True)
            """, in: dir)
        let want = (0..<72).map { Float($0) * 0.5 - 7 }
        for f in ["f4", "be4", "fortran", "v2", "v3"] {
            let (shape, values) = try readNpy(path: join(dir, f + ".npy"))
            XCTAssertEqual(shape, [3, 3, 2, 4], f)
            XCTAssertEqual(values, want, f)
        }
        for f in ["f8", "be8"] {
            let (shape, values) = try readNpy(path: join(dir, f + ".npy"))
            XCTAssertEqual(shape, [3, 3, 2, 4])
            for (v, w) in zip(values, want) { XCTAssertEqual(v, Float(Double(w) / 3), f) }
        }
        let s = try readNpy(path: join(dir, "scalar.npy"))
        XCTAssertEqual(s.shape, []); XCTAssertEqual(s.values, [2.5])
        let v = try readNpy(path: join(dir, "vec.npy"))
        XCTAssertEqual(v.shape, [5]); XCTAssertEqual(v.values, [1, -2, 3.25, 1e-8, 3e38])
        let e = try readNpy(path: join(dir, "empty.npy"))
        XCTAssertEqual(e.shape, [0, 3]); XCTAssertEqual(e.values, [])
        assertBTError(try readNpy(path: join(dir, "i4.npy")), contains: ["'<i4'", "dtype", join(dir, "i4.npy")])
        assertBTError(try readNpy(path: join(dir, "obj.npy")), contains: ["'|O'"])
    }

    func testNumpyReadsWhatWeWrite() throws {
        let dir = try makeTempDir(self)
        let values = (0..<24).map { Float($0) - 3.5 }
        try writeNpy(path: join(dir, "a.npy"), shape: [2, 3, 4], values: values)
        try writeNpy(path: join(dir, "s.npy"), shape: [], values: [42])
        try writeNpy(path: join(dir, "v.npy"), shape: [5], values: [1, 2, 3, 4, 5])
        // Header padded so the data starts on a 64-byte boundary (numpy's layout).
        for f in ["a", "s", "v"] {
            let b = try readBytes(join(dir, f + ".npy"))
            let headerLen = Int(b[8]) | Int(b[9]) << 8
            XCTAssertEqual((10 + headerLen) % 64, 0)
            XCTAssertEqual(b[10 + headerLen - 1], UInt8(ascii: "\n"))
            XCTAssertEqual(Array(b[6...7]), [1, 0])
        }
        let r = try readNpy(path: join(dir, "a.npy"))
        XCTAssertEqual(r.shape, [2, 3, 4]); XCTAssertEqual(r.values, values)
        try numpy("""
            a = np.load(d + '/a.npy'); s = np.load(d + '/s.npy'); v = np.load(d + '/v.npy')
            assert a.dtype == np.dtype('<f4') and a.shape == (2, 3, 4), (a.dtype, a.shape)
            assert (a.ravel() == np.arange(24) - 3.5).all()
            assert s.shape == () and s == 42, s
            assert v.shape == (5,) and (v == [1, 2, 3, 4, 5]).all(), v
            """, in: dir)
        assertBTError(try writeNpy(path: join(dir, "bad.npy"), shape: [2, 2], values: [1, 2, 3]), contains: ["[2, 2]"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: join(dir, "bad.npy")))
    }

    func testMalformedFiles() throws {
        let dir = try makeTempDir(self)
        let path = join(dir, "x.npy")
        try writeNpy(path: path, shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let good = try readBytes(path)
        let headerLen = Int(good[8]) | Int(good[9]) << 8
        let header = String(decoding: good[10..<(10 + headerLen)], as: UTF8.self)

        func check(_ bytes: [UInt8], _ fragments: [String], line: UInt = #line) throws {
            try writeBytes(bytes, path)
            assertBTError(try readNpy(path: path), contains: [path] + fragments, line: line)
        }
        /// The file with its header text replaced (kept the same length, so offsets stay valid).
        func withHeader(_ text: String) -> [UInt8] {
            var h = Array(text.utf8)
            h += [UInt8](repeating: UInt8(ascii: " "), count: max(0, headerLen - 1 - h.count)) + [10]
            return Array(good[0..<8]) + [UInt8(h.count & 255), UInt8(h.count >> 8)] + h + good[(10 + headerLen)...]
        }

        try check([0x93] + Array("NUMPX".utf8) + Array(good[6...]), ["magic"])
        try check([], ["magic"])
        try check(Array(good.dropLast(1)), ["truncated"])
        try check(Array(good.dropLast(24)), ["truncated"])
        try check(good + [0, 0, 0, 0], ["4 extra bytes"])
        try check(Array(good[0..<(10 + headerLen / 2)]), ["header"])
        var v9 = good; v9[6] = 9
        try check(v9, ["version 9.0"])
        var hugeHeader = good; hugeHeader[8] = 0xff; hugeHeader[9] = 0xff
        try check(hugeHeader, ["header"])
        try check(withHeader(header.replacingOccurrences(of: "<f4", with: "<i4")), ["'<i4'"])
        try check(withHeader(header.replacingOccurrences(of: "<f4", with: "<f2")), ["'<f2'"])
        try check(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), "), ["header"])
        try check(withHeader("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }"), ["fortran_order"])
        try check(withHeader("{'descr': '<f4', 'shape': (2, 3), }"), ["missing", "fortran_order"])
        try check(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }"), ["header"])
        try check(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}"), ["extra"])
        try check(withHeader("['descr', '<f4']"), ["header"])
        try check(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }"), ["truncated"])
        // The same data under another shape with the same size is fine.
        try writeBytes(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }"), path)
        XCTAssertEqual(try readNpy(path: path).shape, [6])
    }
}
