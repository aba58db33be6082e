"""Cover images: what is accepted, what is refused and why, and what comes out (upright,
flattened, downscaled, JPEG, without any metadata). Every input is a real image made with
Pillow (or bytes crafted to look like one), decoded by the real decoders."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms
from PIL.ExifTags import IFD, Base
from sqlalchemy import func, inspect, select

from events.content_version import current_version
from events.database import Database
from events.errors import ValidationFailed
from events.models import Event, EventCover
from events.services.communities import CommunityService
from events.services.cover_images import (
    FIELD,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    CoverImageService,
    encode_cover,
)
from events.services.events import EventInput, EventService
from tests.factories import Factories

RED, BLUE, GREEN, WHITE = (220, 20, 20), (20, 20, 220), (20, 200, 20), (255, 255, 255)


# -- making images ---------------------------------------------------------------------------
def image_bytes(image: Image.Image, format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **params)
    return buffer.getvalue()


def halves(size: tuple[int, int], left: tuple[int, int, int], right: tuple[int, int, int]):
    """An image whose left half is ``left`` and right half ``right``."""
    image = Image.new("RGB", size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def phone_photo(size: tuple[int, int] = (1200, 800), orientation: int = 6) -> bytes:
    """A JPEG like a phone's: EXIF with a GPS position, camera, orientation, and a comment."""
    image = halves(size, RED, BLUE)
    exif = image.getexif()
    exif[Base.Orientation] = orientation
    exif[Base.Make] = "PhoneMaker"
    exif[Base.Model] = "SecretModel 12"
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[1], gps[2] = "N", (48.0, 51.0, 29.0)
    gps[3], gps[4] = "E", (2.0, 17.0, 40.0)
    return image_bytes(image, "JPEG", exif=exif.tobytes(), comment=b"home sweet home")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A genuine 1-bit PNG of ``width`` × ``height`` black pixels: a few kilobytes that
    decode to tens of millions of pixels."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions and has (almost) no pixel data at all."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IEND", b"")


def refusal(data: bytes) -> str:
    with pytest.raises(ValidationFailed) as caught:
        encode_cover(data)
    assert list(caught.value.errors) == [FIELD]
    return caught.value.errors[FIELD]


def close_to(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# -- what comes out ----------------------------------------------------------------------------
def test_a_phone_photo_comes_out_upright_and_without_any_metadata() -> None:
    source = phone_photo((1200, 800), orientation=6)  # "rotate 90° clockwise to display"
    assert b"SecretModel" in source and b"home sweet home" in source  # the test is fair
    cover = encode_cover(source)
    large = decoded(cover.large)
    assert large.format == "JPEG"
    # Turned upright: the landscape file is a portrait picture, its left half now on top.
    assert (cover.width, cover.height) == large.size == (800, 1200)
    assert close_to(large.getpixel((400, 100)), RED)
    assert close_to(large.getpixel((400, 1100)), BLUE)
    for variant in (cover.large, cover.small):
        image = decoded(variant)
        assert dict(image.getexif()) == {}
        assert not {"exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp"} & set(image.info)
        assert b"Exif" not in variant
        assert b"SecretModel" not in variant and b"PhoneMaker" not in variant
        assert b"home sweet home" not in variant


def test_transparency_is_flattened_onto_white() -> None:
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    image.paste((*GREEN, 255), (100, 100, 300, 200))
    cover = encode_cover(image_bytes(image, "PNG"))
    large = decoded(cover.large)
    assert large.mode == "RGB"
    assert close_to(large.getpixel((10, 10)), WHITE, tolerance=8)
    assert close_to(large.getpixel((200, 150)), GREEN)


def test_a_palette_image_with_a_transparent_colour_is_flattened_too() -> None:
    image = Image.new("P", (200, 100), 0)
    image.putpalette([*RED, *BLUE] + [0] * (254 * 3))
    image.paste(1, (100, 0, 200, 100))
    cover = encode_cover(image_bytes(image, "PNG", transparency=0))
    large = decoded(cover.large)
    assert close_to(large.getpixel((20, 50)), WHITE, tolerance=8)
    assert close_to(large.getpixel((180, 50)), BLUE)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    large = decoded(encode_cover(image_bytes(Image.new("I;16", (300, 200), 30000), "PNG")).large)
    assert close_to(large.getpixel((150, 100)), (117, 117, 117), tolerance=4)


def test_an_embedded_colour_profile_is_applied_then_left_out() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = image_bytes(Image.new("RGB", (300, 200), RED), "PNG", icc_profile=srgb)
    cover = encode_cover(source)
    large = decoded(cover.large)
    assert "icc_profile" not in large.info
    assert close_to(large.getpixel((150, 100)), RED, tolerance=12)


def test_big_pictures_are_downscaled_into_a_large_and_a_small_variant() -> None:
    cover = encode_cover(image_bytes(halves((3200, 1800), RED, BLUE), "JPEG", quality=90))
    assert (cover.width, cover.height) == decoded(cover.large).size == (1600, 900)
    assert (cover.small_width, cover.small_height) == decoded(cover.small).size == (480, 270)
    assert cover.content_type == "image/jpeg"
    assert len(cover.digest) == 64


def test_small_pictures_are_never_enlarged() -> None:
    cover = encode_cover(image_bytes(Image.new("RGB", (320, 200), RED), "PNG"))
    assert (cover.width, cover.height, cover.small_width, cover.small_height) == (320, 200) * 2


def test_webp_is_accepted() -> None:
    cover = encode_cover(image_bytes(Image.new("RGB", (640, 360), BLUE), "WEBP"))
    assert decoded(cover.large).size == (640, 360)


def test_an_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (200, 100), colour) for colour in (RED, BLUE, GREEN)]
    source = image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(source)).n_frames == 3
    large = decoded(encode_cover(source).large)
    assert getattr(large, "n_frames", 1) == 1
    assert close_to(large.getpixel((100, 50)), RED)


def test_the_same_picture_gives_the_same_digest() -> None:
    source = image_bytes(Image.new("RGB", (300, 200), RED), "PNG")
    assert encode_cover(source).digest == encode_cover(source).digest
    other = image_bytes(Image.new("RGB", (300, 200), BLUE), "PNG")
    assert encode_cover(other).digest != encode_cover(source).digest


# -- what is refused, with which code --------------------------------------------------------
def test_nothing_at_all_is_refused() -> None:
    assert refusal(b"") == "cover_empty"


def test_too_many_bytes_are_refused_before_decoding() -> None:
    # Not even an image: the size alone decides, nothing is decoded.
    assert refusal(b"\xff" * (MAX_UPLOAD_BYTES + 1)) == "cover_too_large"


def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded() -> None:
    bomb = png_bomb(8000, 6000)  # 48 megapixels
    assert len(bomb) < 100_000 and MAX_PIXELS < 8000 * 6000
    assert refusal(bomb) == "cover_too_many_pixels"


def test_absurd_dimensions_are_refused() -> None:
    # Past Pillow's own limit too (it raises before we even look): same answer.
    assert refusal(png_header_only(100_000, 100_000)) == "cover_too_many_pixels"
    assert refusal(png_header_only(10_000, 5_000)) == "cover_too_many_pixels"


@pytest.mark.parametrize(
    "data",
    [
        b"Hello, this is plain text and certainly not a picture.",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
        b"<html><body><img src=x onerror=alert(1)></body></html>",
    ],
    ids=["text", "svg-script", "svg", "pdf", "html"],
)
def test_what_is_not_a_picture_is_refused(data: bytes) -> None:
    assert refusal(data) == "cover_unsupported"


@pytest.mark.parametrize("format", ["BMP", "TIFF", "ICO", "PPM"])
def test_pictures_in_other_formats_are_refused_without_being_decoded(format: str) -> None:
    assert refusal(image_bytes(Image.new("RGB", (64, 64), RED), format)) == "cover_unsupported"


def test_a_file_with_a_picture_name_but_other_content_is_judged_by_its_content() -> None:
    # The service never sees a file name: only the bytes count, whatever they claim to be.
    html_named_jpeg = b"\xff\xd8<script>alert(1)</script>"
    assert refusal(html_named_jpeg) in {"cover_unsupported", "cover_damaged"}


def test_a_truncated_picture_is_refused_as_damaged() -> None:
    whole = image_bytes(halves((800, 600), RED, BLUE), "JPEG")
    assert refusal(whole[: len(whole) // 2]) == "cover_damaged"
    png = image_bytes(halves((800, 600), RED, BLUE), "PNG")
    assert refusal(png[: len(png) // 2]) == "cover_damaged"


# -- stored with the event ---------------------------------------------------------------------
def make_event(db: Database, make: Factories, slug: str = "coloc") -> str:
    make.community(owner=make.user(), slug=slug)
    with db.transaction() as session:
        community = CommunityService(session).by_slug(slug)
        event = EventService(session).create(
            community,
            EventInput(
                title="Pitch night",
                starts_local="2030-03-07T19:00",
                ends_local="2030-03-07T22:00",
                timezone="Europe/Paris",
            ),
        )
        return event.slug


def version(db: Database) -> str:
    with db.session() as session:
        return current_version(session)


def test_set_replace_and_remove_a_cover(db: Database, make: Factories) -> None:
    slug = make_event(db, make)
    first = image_bytes(Image.new("RGB", (900, 600), RED), "PNG")
    second = image_bytes(Image.new("RGB", (600, 900), BLUE), "PNG")
    before = version(db)
    with db.transaction() as session:
        event = EventService(session).by_slug(slug, public=False)
        CoverImageService(session).store_cover(event, encode_cover(first))
    after_first = version(db)
    assert after_first != before  # cached pages show the cover at once

    with db.session() as session:
        event = EventService(session).by_slug(slug, public=False)
        # Loaded with the event, but without the pictures themselves.
        assert event.cover is not None and (event.cover.width, event.cover.height) == (900, 600)
        assert {"large", "small"} <= inspect(event.cover).unloaded
        large = CoverImageService(session).cover_of(event, "large")
        small = CoverImageService(session).cover_of(event, "small")
        assert large is not None and small is not None
        assert (large.width, large.height, small.width, small.height) == (900, 600, 480, 320)
        assert large.content_type == "image/jpeg" and decoded(small.data).size == (480, 320)
        first_digest = large.digest

    with db.transaction() as session:
        event = EventService(session).by_slug(slug, public=False)
        CoverImageService(session).store_cover(event, encode_cover(second))
    assert version(db) != after_first
    with db.session() as session:
        event = EventService(session).by_slug(slug, public=False)
        assert (event.cover.width, event.cover.height) == (600, 900)
        assert event.cover.digest != first_digest
        assert session.scalar(select(func.count()).select_from(EventCover)) == 1

    before_removal = version(db)
    with db.transaction() as session:
        event = EventService(session).by_slug(slug, public=False)
        assert CoverImageService(session).remove_cover(event) is True
    assert version(db) != before_removal
    with db.transaction() as session:
        event = EventService(session).by_slug(slug, public=False)
        assert event.cover is None
        assert CoverImageService(session).cover_of(event) is None
        assert CoverImageService(session).remove_cover(event) is False


def test_a_refused_upload_keeps_the_current_cover(db: Database, make: Factories) -> None:
    slug = make_event(db, make)
    with db.transaction() as session:
        event = EventService(session).by_slug(slug, public=False)
        CoverImageService(session).store_cover(
            event, encode_cover(image_bytes(Image.new("RGB", (90, 60)), "PNG"))
        )
    with pytest.raises(ValidationFailed), db.transaction() as session:
        event = EventService(session).by_slug(slug, public=False)
        CoverImageService(session).store_cover(event, encode_cover(b"not an image"))
    with db.session() as session:
        event = EventService(session).by_slug(slug, public=False)
        assert (event.cover.width, event.cover.height) == (90, 60)


def test_deleting_the_event_deletes_its_cover(db: Database, make: Factories) -> None:
    slug = make_event(db, make)
    with db.transaction() as session:
        event = EventService(session).by_slug(slug, public=False)
        CoverImageService(session).store_cover(
            event, encode_cover(image_bytes(Image.new("RGB", (90, 60)), "PNG"))
        )
    with db.transaction() as session:
        # Cancelling a draft deletes it.
        event = EventService(session).by_slug(slug, public=False)
        EventService(session).cancel(event, "")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0
        assert session.scalar(select(func.count()).select_from(EventCover)) == 0


def test_unknown_sizes_are_a_programming_error(db: Database, make: Factories) -> None:
    slug = make_event(db, make)
    with db.session() as session, pytest.raises(ValueError):
        event = EventService(session).by_slug(slug, public=False)
        CoverImageService(session).cover_of(event, "huge")  # type: ignore[arg-type]
