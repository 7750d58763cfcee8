"""Reading PNG files back in tests with the standard library (no Pillow): segno's 1-bit QR
codes and Chromium's 8-bit RGB(A) screenshots, as grey pixels for zxing-cpp."""
import struct
import zlib

import zxingcpp

_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel (grey, RGB, grey+alpha, RGBA)


def _unfilter(raw, height, stride, bpp):
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return rows


def png_grey(png):
    """(width, height, grey bytes one per pixel) of a non-interlaced PNG: 1-bit grey or 8-bit
    grey / RGB / RGBA (alpha ignored: screenshots are opaque)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    width, height, depth, colour, _compression, _filter, interlace = header
    assert interlace == 0 and colour in _CHANNELS and depth in (1, 8)
    raw = zlib.decompress(idat)
    if depth == 1:
        assert colour == 0
        rows = _unfilter(raw, height, (width + 7) // 8, 1)
        return width, height, b"".join(bytes(255 if row[x // 8] >> (7 - x % 8) & 1 else 0 for x in range(width))
                                       for row in rows)
    channels = _CHANNELS[colour]
    rows = _unfilter(raw, height, width * channels, channels)
    if channels < 3:
        return width, height, b"".join(row[::channels] for row in rows)
    grey = bytearray()
    for row in rows:
        r, g, b = row[0::channels], row[1::channels], row[2::channels]
        grey += bytes((77 * rv + 150 * gv + 29 * bv) >> 8 for rv, gv, bv in zip(r, g, b))
    return width, height, bytes(grey)


def decode_qr(png):
    """The texts of the QR codes zxing-cpp finds in a PNG."""
    width, height, pixels = png_grey(png)
    found = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    return [barcode.text for barcode in found]
