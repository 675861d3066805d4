#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The pictures of mdev_qemu_test.sh.

  mdev_qemu_image.py pattern W H OUT
      write the test pattern the nested guest draws: W x H pixels of
      XRGB8888, little endian, rows packed (the stride mdpy-fb uses)
  mdev_qemu_image.py topng W H RAW PNG
      turn W x H pixels of XRGB8888 (little endian, rows packed, as
      mdev_dmabuf_grab writes a dma-buf) into an RGB PNG
  mdev_qemu_image.py check reset|pattern W H PNG
      compare a QEMU screendump (PNG) pixel by pixel with mdpy's reset
      picture or with the pattern; exit 0 when every pixel matches, 1 when
      one does not (the first mismatches are printed), 2 when the file is
      not a PNG this reader handles

The reset picture is upstream mdpy's: every byte of row y is y * 255 / H,
so each pixel is gray. The pattern is a red ramp along x, a green ramp
along y and blue 32x32 checks, so a shifted, cut or restrided copy cannot
match. Only the standard library is used.
"""

import struct
import sys
import zlib


def pattern_rows(width, height):
    """The pattern's rows as RGB bytes, top to bottom."""
    red = bytes(x * 255 // max(width - 1, 1) for x in range(width))
    blue = [bytes(255 * (((x // 32) + k) & 1) for x in range(width))
            for k in (0, 1)]
    for y in range(height):
        row = bytearray(3 * width)
        row[0::3] = red
        row[1::3] = bytes([y * 255 // max(height - 1, 1)]) * width
        row[2::3] = blue[(y // 32) & 1]
        yield bytes(row)


def reset_rows(width, height):
    """mdpy's reset picture as RGB bytes, top to bottom."""
    for y in range(height):
        yield bytes([y * 255 // height]) * (3 * width)


def write_pattern(width, height, path):
    """The pattern as the guest's framebuffer holds it (B, G, R, X)."""
    with open(path, 'wb') as out:
        for rgb in pattern_rows(width, height):
            xrgb = bytearray(4 * width)
            xrgb[0::4] = rgb[2::3]
            xrgb[1::4] = rgb[1::3]
            xrgb[2::4] = rgb[0::3]
            out.write(xrgb)


def paeth(a, b, c):
    """The PNG Paeth predictor."""
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def unfilter(kind, line, prev, bpp):
    """Undo one scanline's filter (PNG spec, section 9)."""
    if kind == 0:
        return bytearray(line)
    if kind == 2:
        return bytearray((x + u) & 255 for x, u in zip(line, prev))
    out = bytearray(line)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        if kind == 1:
            out[i] = (out[i] + left) & 255
        elif kind == 3:
            out[i] = (out[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            upleft = prev[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + paeth(left, prev[i], upleft)) & 255
        else:
            raise ValueError(f'unknown filter type {kind}')
    return out


def png_rows(path):
    """(width, height, rows as RGB bytes) of an 8-bit RGB/RGBA PNG."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG file')
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ValueError('truncated chunk')
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        elif kind == b'IEND':
            break
        pos += 12 + length
    if header is None:
        raise ValueError('no IHDR chunk')
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f'unsupported PNG: depth {depth} colour {colour} '
                         f'interlace {interlace}')
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b''.join(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise ValueError('image data has the wrong size')
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        prev = unfilter(raw[start], raw[start + 1:start + 1 + stride],
                        prev, bpp)
        rgb = prev if bpp == 3 else bytearray(
            b for i, b in enumerate(prev) if i % 4 != 3)
        rows.append(bytes(rgb))
    return width, height, rows


def write_png(width, height, raw_path, png_path):
    """The XRGB8888 picture at raw_path as an RGB PNG (no filters)."""
    with open(raw_path, 'rb') as f:
        raw = f.read()
    if len(raw) != 4 * width * height:
        print(f'{raw_path}: {len(raw)} bytes, expected {4 * width * height}')
        return 1
    lines = bytearray()
    for y in range(height):
        xrgb = raw[4 * width * y:4 * width * (y + 1)]
        rgb = bytearray(3 * width)
        rgb[0::3] = xrgb[2::4]
        rgb[1::3] = xrgb[1::4]
        rgb[2::3] = xrgb[0::4]
        lines += b'\0' + rgb

    def chunk(kind, body):
        return (struct.pack('>I', len(body)) + kind + body +
                struct.pack('>I', zlib.crc32(kind + body)))

    with open(png_path, 'wb') as out:
        out.write(b'\x89PNG\r\n\x1a\n')
        out.write(chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2,
                                             0, 0, 0)))
        out.write(chunk(b'IDAT', zlib.compress(bytes(lines))))
        out.write(chunk(b'IEND', b''))
    return 0


def check(kind, width, height, path):
    """Compare the screendump at path with the expected picture."""
    try:
        got_w, got_h, got = png_rows(path)
    except (OSError, ValueError, zlib.error) as err:
        print(f'{path}: {err}')
        return 2
    if (got_w, got_h) != (width, height):
        print(f'{path}: {got_w}x{got_h}, expected {width}x{height}')
        return 1
    rows = reset_rows if kind == 'reset' else pattern_rows
    bad = 0
    for y, (row, want) in enumerate(zip(got, rows(width, height))):
        if row == want:
            continue
        for x in range(width):
            if row[3 * x:3 * x + 3] != want[3 * x:3 * x + 3]:
                bad += 1
                if bad <= 5:
                    print(f'{path}: pixel ({x},{y}) is '
                          f'{tuple(row[3 * x:3 * x + 3])}, expected '
                          f'{tuple(want[3 * x:3 * x + 3])}')
    if bad:
        print(f'{path}: {bad} of {width * height} pixels differ')
        return 1
    print(f'{path}: all {width * height} pixels match the {kind} picture')
    return 0


def main(argv):
    """Command-line entry."""
    if len(argv) == 5 and argv[1] == 'pattern':
        write_pattern(int(argv[2]), int(argv[3]), argv[4])
        return 0
    if len(argv) == 6 and argv[1] == 'topng':
        return write_png(int(argv[2]), int(argv[3]), argv[4], argv[5])
    if len(argv) == 6 and argv[1] == 'check' and argv[2] in ('reset',
                                                             'pattern'):
        return check(argv[2], int(argv[3]), int(argv[4]), argv[5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
