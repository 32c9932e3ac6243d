"""What an image file is, and how big it will be, from its first bytes.

Hand-written on purpose.  Untrusted bytes must be judged *before* a decoder sees
them: the format against the allow-list (an SVG handed to the browser would run
its own fetches; an unknown format reaches code nobody chose), the pixel count
against the limit (a 50 kB PNG can declare 40 000 x 40 000 pixels and ask the
decoder for 6 GB).  In the browser there is no Pillow to ask, and the browser's
own decoders only tell the size after they have decoded the whole image, which
is exactly what must be avoided.  So this module reads the few header fields of
the four accepted formats itself.  It is pure Python, imports nothing outside
the standard library, and serves both imaging implementations.

Every function takes ``bytes`` (or anything supporting the buffer protocol and
slicing) and either answers or raises ``ImageInputError`` with a plain message.
"""

from __future__ import annotations

import struct

from ..errors import ImageInputError

#: formats this module can read a size from, by the name Limits.formats uses
READABLE = ("png", "jpeg", "webp", "gif")

_NICE = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "gif": "GIF"}


def nice_format(fmt: str) -> str:
    """'jpeg' -> 'JPEG', for messages."""
    return _NICE.get(fmt, fmt.upper())


def accepted_list(formats) -> str:
    """('png', 'jpeg', 'webp') -> 'PNG, JPEG or WebP'."""
    names = [nice_format(f) for f in formats]
    if not names:
        return "none"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def sniff_format(data) -> str | None:
    """The format the magic bytes announce: one of READABLE, another known name
    (for a better message: 'svg', 'bmp', 'tiff', 'avif', 'heic', 'ico', 'pdf',
    'jxl'), or None when the bytes look like no image at all."""
    head = bytes(data[:64])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    # known but refused: named so the message can say what it was
    if head.startswith(b"BM"):
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "avif"
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "heic"
    if head[:4] == b"\x00\x00\x01\x00":
        return "ico"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL "):
        return "jxl"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in bytes(data[:4096]).lower()):
        return "svg"
    return None


def _truncated() -> ImageInputError:
    return ImageInputError("The image file is truncated or damaged: its header is incomplete.")


def image_size(data, fmt: str | None = None) -> tuple[int, int]:
    """(width, height) read from the header, before any pixel data is decoded.

    For a GIF the extent of the first frame is included (a frame may be declared
    bigger than the logical screen, and a decoder allocates for it)."""
    fmt = fmt or sniff_format(data)
    try:
        if fmt == "png":
            return _png_size(data)
        if fmt == "jpeg":
            return _jpeg_size(data)
        if fmt == "webp":
            return _webp_size(data)
        if fmt == "gif":
            return _gif_size(data)
    except (struct.error, IndexError):
        raise _truncated() from None
    raise ImageInputError("This file is not a PNG, JPEG, WebP or GIF image.")


def _png_size(data) -> tuple[int, int]:
    # signature (8) + chunk length (4) + b"IHDR" + width (4) + height (4)
    if len(data) < 24:
        raise _truncated()
    if bytes(data[12:16]) != b"IHDR":
        raise ImageInputError("The PNG file is damaged: it does not start with an IHDR chunk.")
    w, h = struct.unpack(">II", bytes(data[16:24]))
    return w, h


# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data) -> tuple[int, int]:
    n = len(data)
    i = 2  # after SOI
    while True:
        # a marker is 0xFF (any number of fill 0xFF) then a code
        if i >= n:
            raise _truncated()
        if data[i] != 0xFF:
            raise ImageInputError("The JPEG file is damaged: a marker is missing where one belongs.")
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            raise _truncated()
        code = data[i]
        i += 1
        if code == 0xD8 or code == 0x01 or 0xD0 <= code <= 0xD7:
            continue  # standalone markers, no length
        if code == 0xD9 or code == 0xDA:
            # end of image / start of scan before any frame header
            raise ImageInputError("The JPEG file is damaged: it has no frame header.")
        if i + 2 > n:
            raise _truncated()
        (length,) = struct.unpack(">H", bytes(data[i:i + 2]))
        if length < 2:
            raise ImageInputError("The JPEG file is damaged: a segment has an impossible length.")
        if code in _SOF:
            if i + 7 > n:
                raise _truncated()
            h, w = struct.unpack(">HH", bytes(data[i + 3:i + 7]))
            if h == 0 or w == 0:
                # height 0 means "given later by a DNL marker": legal, almost never used,
                # and it would let the size escape the limit check
                raise ImageInputError("The JPEG file declares no height in its header; it cannot be checked safely.")
            return w, h
        i += length


def _webp_size(data) -> tuple[int, int]:
    chunk = bytes(data[12:16])
    body = bytes(data[20:30])
    if chunk == b"VP8 ":
        # 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height (+2 scale bits)
        if body[3:6] != b"\x9d\x01\x2a":
            raise ImageInputError("The WebP file is damaged: its VP8 header is wrong.")
        w, h = struct.unpack("<HH", body[6:10])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L":
        if body[0] != 0x2F:
            raise ImageInputError("The WebP file is damaged: its VP8L header is wrong.")
        (bits,) = struct.unpack("<I", body[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        # flags (1), reserved (3), canvas width - 1 (24 bit), canvas height - 1 (24 bit)
        w = int.from_bytes(body[4:7], "little") + 1
        h = int.from_bytes(body[7:10], "little") + 1
        return w, h
    if len(data) < 30:
        raise _truncated()
    raise ImageInputError("The WebP file is damaged or of an unknown kind.")


def _gif_size(data) -> tuple[int, int]:
    sw, sh, flags = struct.unpack("<HHB", bytes(data[6:11]))
    w, h = sw, sh
    i = 13
    if flags & 0x80:
        i += 3 << ((flags & 7) + 1)
    n = len(data)
    # walk extensions up to the first image descriptor (a handful of blocks)
    for _ in range(10_000):
        if i >= n:
            break
        b = data[i]
        if b == 0x21:  # extension: label, then data sub-blocks ending with a 0 length
            i += 2
            while i < n and data[i]:
                i += data[i] + 1
            i += 1
        elif b == 0x2C:  # image descriptor: left, top, width, height
            left, top, fw, fh = struct.unpack("<HHHH", bytes(data[i + 1:i + 9]))
            w, h = max(w, left + fw), max(h, top + fh)
            break
        else:
            break
    return w, h


def looks_complete(data, fmt: str) -> bool:
    """A cheap check that the file was not cut short, for decoders that may draw a
    truncated image with a blank remainder instead of failing as Pillow does (browsers
    render partial images progressively; we do not rely on createImageBitmap rejecting).  PNG: an IEND chunk; JPEG: an EOI marker; GIF: a trailer byte;
    WebP: as many bytes as the RIFF header announces."""
    data = bytes(data)
    if fmt == "png":
        # the end chunk after the last image data chunk (tolerates trailing bytes)
        return data.rfind(b"IEND") > data.rfind(b"IDAT") > 0
    if fmt == "jpeg":
        # an end-of-image marker after the last start-of-scan (an embedded EXIF thumbnail
        # has its own markers, but they come before the main image's scans)
        return data.rfind(b"\xff\xd9") > data.rfind(b"\xff\xda") > 0
    if fmt == "gif":
        return _gif_first_frame_complete(data)
    if fmt == "webp":
        (riff_size,) = struct.unpack("<I", data[4:8])
        return len(data) >= 8 + riff_size
    return True


def _gif_first_frame_complete(data: bytes) -> bool:
    """Walk the blocks up to the end of the first frame's image data (only the first
    frame is used, so a cut later in an animation does not matter)."""
    n = len(data)
    if n < 13:
        return False
    i = 13
    if data[10] & 0x80:
        i += 3 << ((data[10] & 7) + 1)
    while i < n:
        b = data[i]
        if b == 0x21:  # extension: label, then sub-blocks
            i += 2
        elif b == 0x2C:  # image descriptor (10 bytes), local colour table, LZW code size
            if i + 10 > n:
                return False
            flags = data[i + 9]
            i += 10
            if flags & 0x80:
                i += 3 << ((flags & 7) + 1)
            i += 1
        else:
            return False
        while i < n and data[i]:  # data sub-blocks up to the zero-length terminator
            i += data[i] + 1
        if i >= n:
            return False
        i += 1
        if b == 0x2C:
            return True
    return False


def check(data, max_bytes: int, max_pixels: int, formats) -> tuple[str, int, int]:
    """All the checks that come before decoding, in order: size in bytes, format,
    pixels.  Returns (format, width, height) or raises ImageInputError."""
    n = len(data)
    if n == 0:
        raise ImageInputError("The image file is empty.")
    if n > max_bytes:
        raise ImageInputError(
            f"The image file is too big: {_mb(n)} MB, and at most {_mb(max_bytes)} MB are accepted."
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageInputError(
            f"This file is not an image this app can read. Accepted formats: {accepted_list(formats)}."
        )
    if fmt not in formats or fmt not in READABLE:
        raise ImageInputError(
            f"{nice_format(fmt)} images are not accepted. Accepted formats: {accepted_list(formats)}."
        )
    w, h = image_size(data, fmt)
    if w <= 0 or h <= 0:
        raise ImageInputError("The image file is damaged: it declares a width or height of zero.")
    if w * h > max_pixels:
        raise ImageInputError(
            f"The image has too many pixels: {w} x {h} is {w * h / 1e6:.1f} megapixels, "
            f"and at most {max_pixels / 1e6:g} megapixels are accepted."
        )
    return fmt, w, h


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".")
