#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The pictures of mdev_qemu_test.sh (and of `make run`).

  mdev_qemu_image.py pattern W H OUT
      write the test pattern the nested guest draws: W x H pixels of
      XRGB8888, little endian, rows packed (the stride mdpy-fb uses)
  mdev_qemu_image.py check reset|pattern W H PICTURE [PNG]
      compare PICTURE pixel by pixel with mdpy's reset picture or with the
      pattern; exit 0 when every pixel matches, 1 when one does not (the
      first mismatches are printed), 2 when PICTURE is not a W x H picture
      this reader takes. A PICTURE named *.ppm must be a binary PPM (P6,
      8 bits per channel, as QEMU's screendump -f ppm writes it); any
      other is W x H pixels of XRGB8888 (little endian, rows packed, as
      mdev_dmabuf_grab writes a dma-buf).
      With PNG, a copy of PICTURE is written there for people to look at.
  mdev_qemu_image.py png PPM PNG
      write the binary PPM picture PPM as PNG

The reset picture is upstream mdpy's: every byte of row y is y * 255 / H,
so each pixel is gray. The pattern is a red ramp along x, a green ramp
along y and blue 32x32 checks, so a shifted, cut or restrided copy cannot
match. Only the standard library is used, and no loop runs per pixel
unless pixels differ: under TCG inside a checking kernel, Python's
per-byte loops cost minutes.
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


def ppm_header(data):
    """(width, height, offset of the pixels) of a binary PPM, 8 bits."""
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            pos = data.find(b'\n', pos)
            if pos < 0:
                break
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        if end == pos:
            break
        fields.append(data[pos:end])
        pos = end
    if (len(fields) != 4 or fields[0] != b'P6' or fields[3] != b'255' or
            not fields[1].isdigit() or not fields[2].isdigit()):
        raise ValueError('not an 8-bit binary PPM')
    # one whitespace byte ends the header
    return int(fields[1]), int(fields[2]), pos + 1


def picture_rows(path, width, height):
    """The W x H picture at path (*.ppm: PPM, else XRGB8888) as RGB rows."""
    with open(path, 'rb') as f:
        data = f.read()
    if path.endswith('.ppm'):
        got_w, got_h, pos = ppm_header(data)
        if (got_w, got_h) != (width, height):
            raise ValueError(f'{got_w}x{got_h}, expected {width}x{height}')
        stride = 3 * width
        if len(data) - pos != height * stride:
            raise ValueError(f'{len(data) - pos} bytes of pixels, expected '
                             f'{height * stride}')
        return [data[pos + y * stride:pos + (y + 1) * stride]
                for y in range(height)]
    if len(data) != 4 * width * height:
        raise ValueError(f'{len(data)} bytes, not {width}x{height} XRGB8888')
    rows = []
    for y in range(height):
        xrgb = data[4 * width * y:4 * width * (y + 1)]
        rgb = bytearray(3 * width)
        rgb[0::3] = xrgb[2::4]
        rgb[1::3] = xrgb[1::4]
        rgb[2::3] = xrgb[0::4]
        rows.append(bytes(rgb))
    return rows


def write_png(width, rows, path):
    """RGB rows as a PNG (8 bits, no filters)."""
    def chunk(kind, body):
        return (struct.pack('>I', len(body)) + kind + body +
                struct.pack('>I', zlib.crc32(kind + body)))

    lines = b''.join(b'\0' + row for row in rows)
    with open(path, 'wb') as out:
        out.write(b'\x89PNG\r\n\x1a\n')
        out.write(chunk(b'IHDR', struct.pack('>IIBBBBB', width, len(rows),
                                             8, 2, 0, 0, 0)))
        out.write(chunk(b'IDAT', zlib.compress(lines)))
        out.write(chunk(b'IEND', b''))


def check(kind, width, height, path, png):
    """Compare the picture at path with the expected one."""
    try:
        got = picture_rows(path, width, height)
    except (OSError, ValueError) as err:
        print(f'{path}: {err}')
        return 2
    if png:
        try:
            write_png(width, got, png)
        except OSError as err:
            print(f'{png}: no copy kept: {err}')
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


def ppm_to_png(ppm, png):
    """Convert a PPM picture to PNG."""
    try:
        with open(ppm, 'rb') as f:
            width, height, _ = ppm_header(f.read())
        write_png(width, picture_rows(ppm, width, height), png)
    except (OSError, ValueError) as err:
        print(f'{ppm}: {err}', file=sys.stderr)
        return 1
    return 0


def main(argv):
    """Command-line entry."""
    if len(argv) == 5 and argv[1] == 'pattern':
        write_pattern(int(argv[2]), int(argv[3]), argv[4])
        return 0
    if len(argv) in (6, 7) and argv[1] == 'check' and argv[2] in ('reset',
                                                                  'pattern'):
        return check(argv[2], int(argv[3]), int(argv[4]), argv[5],
                     argv[6] if len(argv) == 7 else None)
    if len(argv) == 4 and argv[1] == 'png':
        return ppm_to_png(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
