import BTCore
import Datasets
import Foundation

/// Windows bitmaps, the format of Set5, Set14 and T91 as the SRCNN release ships them. Reads what those and
/// common tools write: BITMAPINFOHEADER and its V2-V5 successors, 1/4/8-bit palettes, 24-bit, 32-bit (plain or
/// with bit-field masks), bottom-up or top-down rows padded to 4 bytes. Writes 24-bit. A damaged file is an
/// error naming it, never a crash.
public enum BMP {
    /// The header, checked against the file's size (the pixel rows it declares must be there); nothing decoded.
    public static func header(of data: [UInt8], path: String) throws -> ImageHeader {
        let l = try Layout(data, path: path)
        return ImageHeader(width: l.width, height: l.height, grayscale: l.grayscale)
    }

    /// The pixels, and whether the file is greyscale (a palette of greys only: MATLAB reads it as one channel).
    public static func decode(_ data: [UInt8], path: String) throws -> (image: RGBImage, grayscale: Bool) {
        let l = try Layout(data, path: path)
        let (width, height, bits, stride) = (l.width, l.height, l.bits, l.stride)
        let channel = [l.masks.0, l.masks.1, l.masks.2].map(MaskChannel.init)
        func u32(_ o: Int) -> UInt32 { UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24 }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let row = l.pixelOffset + (l.topDown ? y : height - 1 - y) * stride
            for x in 0..<width {
                let o = (y * width + x) * 3
                switch bits {
                case 24:
                    out[o] = data[row + 3 * x + 2]; out[o + 1] = data[row + 3 * x + 1]; out[o + 2] = data[row + 3 * x]
                case 32:
                    let px = u32(row + 4 * x)
                    for c in 0..<3 { out[o + c] = channel[c].value(px) }
                default:
                    let bit = x * bits, byte = Int(data[row + bit / 8])
                    let index = (byte >> (8 - bits - bit % 8)) & ((1 << bits) - 1)
                    guard index < l.palette.count else {
                        throw BTError("cannot read image \(path): palette index \(index) outside the \(l.palette.count)-colour palette")
                    }
                    (out[o], out[o + 1], out[o + 2]) = l.palette[index]
                }
            }
        }
        return (RGBImage(width: width, height: height, bytes: out), l.grayscale)
    }

    /// What the headers say, validated against the file's size before any pixel is decoded.
    private struct Layout {
        var width = 0, height = 0, bits = 0, stride = 0, pixelOffset = 0, topDown = false
        var masks: (UInt32, UInt32, UInt32) = (0x00FF_0000, 0x0000_FF00, 0x0000_00FF)
        var palette: [(UInt8, UInt8, UInt8)] = []
        var grayscale: Bool { bits <= 8 && palette.allSatisfy { $0.0 == $0.1 && $0.1 == $0.2 } }

        init(_ data: [UInt8], path: String) throws {
            func fail(_ why: String) -> BTError { BTError("cannot read image \(path): \(why)") }
            guard data.count >= 2, data[0] == 0x42, data[1] == 0x4D else { throw fail("not a BMP file") }
            guard data.count >= 18 else { throw fail("truncated BMP header") }
            func u16(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 }
            func u32(_ o: Int) -> UInt32 { UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24 }
            pixelOffset = Int(u32(10))
            let headerSize = Int(u32(14))
            guard headerSize != 12 else { throw fail("OS/2 bitmaps (BITMAPCOREHEADER) are not supported") }
            guard headerSize >= 40, headerSize <= 1024 else { throw fail("bad BMP header size \(headerSize)") }
            guard data.count >= 14 + headerSize else { throw fail("truncated BMP header") }
            let rawHeight = Int(Int32(bitPattern: u32(22)))
            width = Int(Int32(bitPattern: u32(18))); height = abs(rawHeight); topDown = rawHeight < 0
            bits = u16(28)
            let compression = u32(30)
            guard width > 0, height > 0 else { throw fail("bad size \(width)x\(rawHeight)") }
            try ImageLimits.check(ImageHeader(width: width, height: height, grayscale: false), path: path, bytesPerPixel: 0)
            guard [1, 4, 8, 24, 32].contains(bits) else { throw fail("unsupported bit depth \(bits)") }

            // 32-bit pixels: BI_RGB is B, G, R, unused; BI_BITFIELDS (3) and BI_ALPHABITFIELDS (6) give the masks at 54.
            switch (compression, bits) {
            case (0, _): break
            case (3, 32), (6, 32):
                guard data.count >= 66 else { throw fail("truncated BMP bit-field masks") }
                masks = (u32(54), u32(58), u32(62))
            case (1, _), (2, _): throw fail("RLE-compressed bitmaps are not supported")
            default: throw fail("unsupported BMP compression \(compression) at \(bits) bits")
            }
            guard masks.0 | masks.1 | masks.2 != 0 else { throw fail("empty BMP bit-field masks") }

            if bits <= 8 {
                let used = Int(u32(46)), count = used == 0 ? 1 << bits : min(used, 1 << bits)
                let start = 14 + headerSize
                guard start + 4 * count <= data.count else { throw fail("truncated BMP palette") }
                palette = (0..<count).map { i in (data[start + 4 * i + 2], data[start + 4 * i + 1], data[start + 4 * i]) }
            }

            // Rows are padded to 4 bytes; a last row without its padding is accepted. The pixel count is bounded
            // above, so these products cannot overflow; the file must hold every row it declares.
            stride = (bits * width + 31) / 32 * 4
            let rowBytes = (bits * width + 7) / 8
            guard pixelOffset >= 14 + headerSize, pixelOffset <= data.count,
                  data.count - pixelOffset >= stride * (height - 1) + rowBytes else {
                throw fail("truncated pixel data (\(max(0, data.count - pixelOffset)) of \(stride * height) bytes)")
            }
        }
    }

    /// A 24-bit bottom-up BMP with a BITMAPINFOHEADER, which every reader accepts.
    public static func encode(_ image: RGBImage) -> [UInt8] {
        let stride = (3 * image.width + 3) / 4 * 4, size = 54 + stride * image.height
        var b = [UInt8](repeating: 0, count: size)
        func put32(_ o: Int, _ v: Int) { for i in 0..<4 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
        b[0] = 0x42; b[1] = 0x4D
        put32(2, size); put32(10, 54); put32(14, 40); put32(18, image.width); put32(22, image.height)
        b[26] = 1; b[28] = 24
        put32(34, stride * image.height); put32(38, 2835); put32(42, 2835)  // 72 dpi
        for y in 0..<image.height {
            let row = 54 + (image.height - 1 - y) * stride
            for x in 0..<image.width {
                let i = (y * image.width + x) * 3
                b[row + 3 * x] = image.bytes[i + 2]; b[row + 3 * x + 1] = image.bytes[i + 1]; b[row + 3 * x + 2] = image.bytes[i]
            }
        }
        return b
    }

    /// Written atomically (a temporary file renamed over the target).
    public static func write(_ image: RGBImage, to path: String) throws {
        try AtomicFile.write(Data(encode(image)), to: path)
    }
}

/// One colour channel of a bit-field pixel, scaled to 8 bits whatever its width.
private struct MaskChannel {
    let mask: UInt32, shift: UInt32, maxValue: UInt32

    init(_ mask: UInt32) {
        self.mask = mask
        shift = mask == 0 ? 0 : UInt32(mask.trailingZeroBitCount)
        let bits = mask == 0 ? 0 : (~(mask >> shift)).trailingZeroBitCount  // the run of ones from the lowest set bit
        maxValue = bits >= 32 ? UInt32.max : (1 << UInt32(bits)) - 1
    }

    func value(_ px: UInt32) -> UInt8 {
        guard maxValue > 0 else { return 0 }
        let v = UInt64((px & mask) >> shift)
        return maxValue == 255 ? UInt8(truncatingIfNeeded: v) : UInt8(min(255, (v * 255 + UInt64(maxValue) / 2) / UInt64(maxValue)))
    }
}
