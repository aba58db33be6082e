"""Cover images: what an organiser uploads is decoded, checked, re-encoded and stored; what
visitors get is only ever our own re-encoding, never the uploaded file.

The rules, in the order they are applied (each refusal is a ``ValidationFailed`` on the
``cover_image`` field with one of the codes below):

1. Size of the upload, before anything is decoded: empty → ``cover_empty``, more than
   ``MAX_UPLOAD_BYTES`` → ``cover_too_large``.
2. What the bytes are, by decoding them (the file name and the announced content type are
   never trusted): only JPEG, PNG, WebP and GIF decoders are even tried, anything else (SVG,
   PDF, HEIC, TIFF, text...) → ``cover_unsupported``.
3. Dimensions, read from the header before the pixels are decoded: more than ``MAX_PIXELS``
   → ``cover_too_many_pixels`` (a small file that would expand to gigabytes of pixels, a
   "decompression bomb", is refused here).
4. Decoding the pixels: a truncated or corrupt file → ``cover_damaged``.

Decoding and re-encoding are the heavy part (about two seconds for 40 megapixels): the
web does them before its write transaction begins (:func:`encode_cover`, then
:meth:`CoverImageService.store_cover`), in one of the process's few CPU slots
(events/work_limits.py).

Then the picture is turned upright (EXIF orientation), its first frame taken (animated GIF
or WebP), transparency flattened onto white, colours converted to sRGB from an embedded ICC
profile, and it is downscaled into two variants. Both are encoded as **JPEG** without any
metadata (no EXIF and so no GPS position or camera serial, no ICC, XMP or comments).

Why JPEG rather than WebP: the large variant is also the ``og:image`` of the event page,
fetched by chat apps, social networks and mail clients, and JPEG is the one format every
one of them shows; WebP would be about a quarter smaller, which matters little at 1600
pixels and one picture per page.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import ValidationFailed
from events.models import Event, EventCover

FIELD = "cover_image"
#: Bigger uploads are refused before decoding. Phone photos are 2–6 MB.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: 40 megapixels: more than any phone's normal photo (12–24 MP), far below what would
#: exhaust memory once decoded.
MAX_PIXELS = 40_000_000
#: The only decoders ever run on an upload.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
#: Bounding boxes of the two variants (downscaled only, aspect ratio kept).
LARGE_BOX = (1600, 1600)
SMALL_BOX = (480, 480)
CONTENT_TYPE = "image/jpeg"
JPEG_QUALITY = 82
BACKGROUND = (255, 255, 255)

Size = Literal["large", "small"]
SIZES: tuple[Size, ...] = ("large", "small")


@dataclass(frozen=True)
class EncodedCover:
    """Both variants of a re-encoded cover."""

    large: bytes
    small: bytes
    width: int
    height: int
    small_width: int
    small_height: int
    content_type: str = CONTENT_TYPE

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.large).hexdigest()


@dataclass(frozen=True)
class CoverImage:
    """One variant of a stored cover, ready to send."""

    data: bytes
    content_type: str
    digest: str
    width: int
    height: int


#: What Pillow raises on truncated or inconsistent data.
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)


def _refuse(code: str) -> ValidationFailed:
    return ValidationFailed({FIELD: code})


def _srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """``image`` in sRGB, using its embedded profile when there is a usable one."""
    if icc and image.mode in {"RGB", "CMYK"}:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken profile: the plain conversion below will do
        if converted is not None:
            return converted
    return image if image.mode == "RGB" else image.convert("RGB")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info


def _flatten(image: Image.Image) -> Image.Image:
    """Transparent areas become white (JPEG has no alpha); other images are left alone."""
    if not _has_alpha(image):
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
    background.alpha_composite(rgba)
    return background.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    # A fresh image carrying pixels only: ``convert``/``copy`` keep ``info`` (EXIF, ICC,
    # XMP, comments), and some encoders write what they find there.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    buffer = io.BytesIO()
    clean.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue()


def decode_upload(data: bytes) -> tuple[Image.Image, bytes | None]:
    """Rules 1 to 4 of the module: the upright first frame of ``data`` and its embedded
    ICC profile, or ``ValidationFailed({"cover_image": code})``. The slow part of an
    upload (up to about two seconds for 40 megapixels on a small server)."""
    if not data:
        raise _refuse("cover_empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise _refuse("cover_too_large")
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as opened:
            width, height = opened.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise _refuse("cover_too_many_pixels")
            icc = opened.info.get("icc_profile")
            if opened.format == "JPEG":
                # Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 while decoding: a
                # large photo then never exists in memory at full size.
                opened.draft("RGB", LARGE_BOX)
            opened.seek(0)  # the first frame of an animation
            opened.load()
            upright = ImageOps.exif_transpose(opened)
    except ValidationFailed:
        raise
    except Image.DecompressionBombError:
        raise _refuse("cover_too_many_pixels") from None
    except UnidentifiedImageError:
        raise _refuse("cover_unsupported") from None
    except _DAMAGED:
        # Truncated data, a bad checksum, a header that lies about the rest...
        raise _refuse("cover_damaged") from None
    return upright, icc if isinstance(icc, bytes) else None


def encode_cover(data: bytes) -> EncodedCover:
    """Check ``data`` and re-encode it as the two cover variants (see the module's doc).

    Raises ``ValidationFailed({"cover_image": code})`` when the upload is refused. Heavy:
    call it with no transaction open (events/work_limits.py), then :meth:`store_cover`.
    """
    image, icc = decode_upload(data)
    try:
        if image.mode.startswith("I"):
            # 16-bit grey (some PNGs): scale to 8 bits rather than clip to white.
            image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
        if image.mode not in {"RGB", "RGBA", "CMYK"}:
            # Palette, grey, 1-bit, 16-bit...: a mode that resizes smoothly (palettes
            # would only get nearest-neighbour), keeping transparency for _flatten.
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
        # Downscale first: flattening and colour conversion then work on few pixels.
        image.thumbnail(LARGE_BOX, Image.Resampling.LANCZOS)
        image = _srgb(_flatten(image), icc)
        small = image.copy()
        small.thumbnail(SMALL_BOX, Image.Resampling.LANCZOS)
    except _DAMAGED:
        raise _refuse("cover_damaged") from None
    return EncodedCover(
        large=_jpeg(image),
        small=_jpeg(small),
        width=image.width,
        height=image.height,
        small_width=small.width,
        small_height=small.height,
    )


class CoverImageService:
    """An event's cover image: set, remove, read. Writes only flush; the caller commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def store_cover(self, event: Event, encoded: EncodedCover) -> EventCover:
        """Replace the event's cover with ``encoded`` (from :func:`encode_cover`, called
        before the transaction began: this is the short write)."""
        # Two uploads at once (PostgreSQL runs writers side by side) must not both find
        # "no cover yet" and both insert one: lock the event, then look again.
        self.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
        self.session.refresh(event, ["cover"])
        cover: EventCover | None = event.cover
        if cover is None:
            cover = EventCover(event_id=event.id)
            event.cover = cover
        cover.content_type = encoded.content_type
        cover.width, cover.height = encoded.width, encoded.height
        cover.small_width, cover.small_height = encoded.small_width, encoded.small_height
        cover.large, cover.small = encoded.large, encoded.small
        cover.digest = encoded.digest
        cover.updated_at = utcnow()
        self.session.flush()
        return cover

    def copy_cover(self, source: Event, target: Event) -> EventCover | None:
        """Give ``target`` the same cover as ``source`` (for "Duplicate"); None if none."""
        original: EventCover | None = source.cover
        large = self.cover_of(source, "large")
        small = self.cover_of(source, "small")
        if original is None or large is None or small is None:
            return None
        cover = EventCover(
            event_id=target.id,
            content_type=original.content_type,
            width=original.width,
            height=original.height,
            small_width=original.small_width,
            small_height=original.small_height,
            digest=original.digest,
            large=large.data,
            small=small.data,
        )
        target.cover = cover
        self.session.flush()
        return cover

    def remove_cover(self, event: Event) -> bool:
        """Delete the event's cover; False if it had none."""
        if event.cover is None:
            return False
        event.cover = None
        self.session.flush()
        return True

    def cover_of(self, event: Event, size: Size = "large") -> CoverImage | None:
        """One variant of the event's cover with what is needed to send it, or None."""
        if size not in SIZES:
            raise ValueError(f"unknown cover size {size!r}")
        large = size == "large"
        row = self.session.execute(
            select(
                EventCover.large if large else EventCover.small,
                EventCover.content_type,
                EventCover.digest,
                EventCover.width if large else EventCover.small_width,
                EventCover.height if large else EventCover.small_height,
            ).where(EventCover.event_id == event.id)
        ).one_or_none()
        if row is None:
            return None
        data, content_type, digest, width, height = row
        return CoverImage(data, content_type, digest, width, height)
