"""Cover images over HTTP: the organiser's upload and removal, who may do it, and how the
public gets the picture (type, caching, drafts hidden) on the event page, in the cards and
as the link preview."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from events.database import Database
from events.models import EventCover, Role
from events.services.communities import CommunityService
from events.services.cover_images import MAX_UPLOAD_BYTES, CoverImageService
from events.services.events import EventInput, EventService
from tests.conftest import BASE_URL
from tests.domain.test_cover_images import BLUE, RED, image_bytes, phone_photo
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_conditional import assert_revalidates
from web.controllers.manage_events import MAX_COVER_REQUEST_BYTES


def make_event(db: Database, *, publish: bool = True, community: str = "coloc") -> str:
    with db.transaction() as session:
        found = CommunityService(session).by_slug(community)
        service = EventService(session)
        event = service.create(
            found,
            EventInput(
                title="Pitch night",
                starts_local="2030-03-07T19:00",
                ends_local="2030-03-07T22:00",
                timezone="Europe/Paris",
            ),
        )
        if publish:
            service.publish(event)
        return event.slug


def upload(client: Client, slug: str, data: bytes, *, community: str = "coloc", **kw):
    return client.post(
        f"/manage/{community}/events/{slug}/cover",
        data={"_csrf_token": client.csrf_token()},
        files={"cover_image": ("holiday.jpg", data, "image/jpeg")},
        follow_redirects=False,
        **kw,
    )


def stored_covers(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(EventCover)) or 0


def cover_version(db: Database, slug: str) -> str:
    with db.session() as session:
        event = EventService(session).by_slug(slug, public=False)
        return event.cover.version


@pytest.fixture
def owner_client(client: Client, make: Factories, db: Database) -> Client:
    owner = make.user()
    make.community(owner=owner, slug="coloc")
    client.login_as(db, owner)
    return client


# -- the organiser's side ----------------------------------------------------------------------
def test_the_organiser_uploads_a_cover_and_sees_it(owner_client: Client, db: Database) -> None:
    slug = make_event(db, publish=False)
    edit = owner_client.get(f"/manage/coloc/events/{slug}")
    assert 'id="cover"' in edit.text and 'enctype="multipart/form-data"' in edit.text
    assert 'name="cover_image" type="file"' in edit.text

    response = upload(owner_client, slug, phone_photo())
    assert response.status_code == 303
    assert response.headers["location"] == f"/manage/coloc/events/{slug}#cover"
    assert stored_covers(db) == 1

    edit = owner_client.get(f"/manage/coloc/events/{slug}")
    # The draft's preview is inline (a draft has no public image address).
    assert re.search(r'<img src="data:image/jpeg;base64,[A-Za-z0-9+/=]+"', edit.text)
    assert "Cover image saved." in edit.text
    assert f"{slug}/cover/delete" in edit.text and "hx-confirm" in edit.text


def test_a_refused_upload_says_why_next_to_the_field(owner_client: Client, db: Database) -> None:
    slug = make_event(db)
    response = upload(owner_client, slug, b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert response.status_code == 400
    assert 'id="f-cover_image-error">This is not an image we can use' in response.text
    assert 'aria-invalid="true"' in response.text
    assert stored_covers(db) == 0


def test_submitting_without_a_file_asks_for_one(owner_client: Client, db: Database) -> None:
    slug = make_event(db)
    response = owner_client.submit(f"/manage/coloc/events/{slug}/cover", {})
    assert response.status_code == 400
    assert "Choose an image file." in response.text
    empty = upload(owner_client, slug, b"")
    assert empty.status_code == 400 and "Choose an image file." in empty.text


def test_a_file_over_the_limit_is_refused_with_a_clear_message(
    owner_client: Client, db: Database
) -> None:
    slug = make_event(db)
    # Just over the image limit, within the request limit: the form says so.
    response = upload(owner_client, slug, b"\xff" * (MAX_UPLOAD_BYTES + 1024))
    assert response.status_code == 400
    assert "This image is too large: choose one under 5 MB." in response.text
    # Far over: cut off while it arrives, answered 413 with the same words (not a 500).
    huge = upload(owner_client, slug, b"\xff" * (MAX_COVER_REQUEST_BYTES + 1))
    assert huge.status_code == 413
    assert "text/html" in huge.headers["content-type"]
    assert "This image is too large: choose one under 5 MB." in huge.text
    assert stored_covers(db) == 0


def test_the_organiser_removes_the_cover(owner_client: Client, db: Database) -> None:
    slug = make_event(db)
    assert upload(owner_client, slug, phone_photo()).status_code == 303
    version = cover_version(db, slug)
    response = owner_client.submit(f"/manage/coloc/events/{slug}/cover/delete")
    assert response.status_code == 303
    assert stored_covers(db) == 0
    page = owner_client.get(f"/e/{slug}")
    assert "cover.jpg" not in page.text and "og:image" not in page.text
    # An old address of the picture now leads to the neutral placeholder.
    gone = owner_client.get(f"/e/{slug}/cover.jpg?v={version}", follow_redirects=False)
    assert gone.status_code == 302
    assert gone.headers["location"] == "/static/img/no-cover.svg"


def test_a_duplicate_keeps_the_cover(owner_client: Client, db: Database) -> None:
    slug = make_event(db)
    assert upload(owner_client, slug, phone_photo()).status_code == 303
    response = owner_client.submit(f"/manage/coloc/events/{slug}/duplicate")
    assert response.status_code == 303
    copy = response.headers["location"].rsplit("/", 1)[1]
    assert copy != slug and stored_covers(db) == 2
    assert cover_version(db, copy) == cover_version(db, slug)


def test_another_communitys_organiser_gets_404_and_a_door_volunteer_403(
    client: Client, make: Factories, db: Database
) -> None:
    owner = make.user()
    community = make.community(owner=owner, slug="coloc")
    door = make.member(community, role=Role.DOOR)
    stranger = make.user(email="stranger@example.org")
    make.community(owner=stranger, slug="theirs")
    slug = make_event(db)
    photo = phone_photo()

    client.login_as(db, stranger)
    assert upload(client, slug, photo).status_code == 404
    assert client.submit(f"/manage/coloc/events/{slug}/cover/delete").status_code == 404
    # Nor through their own community's address.
    assert upload(client, slug, photo, community="theirs").status_code == 404

    client.cookies.clear()
    client.login_as(db, door)
    assert upload(client, slug, photo).status_code == 403
    assert client.submit(f"/manage/coloc/events/{slug}/cover/delete").status_code == 403
    assert stored_covers(db) == 0


def test_anonymous_uploads_are_sent_to_log_in(client: Client, make: Factories, db: Database):
    make.community(owner=make.user(), slug="coloc")
    slug = make_event(db)
    response = upload(client, slug, phone_photo())
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert stored_covers(db) == 0


# -- the public side ------------------------------------------------------------------------------
def set_cover(db: Database, slug: str, data: bytes) -> str:
    with db.transaction() as session:
        event = EventService(session).by_slug(slug, public=False)
        return CoverImageService(session).set_cover(event, data).version


def test_the_cover_is_served_as_a_cacheable_jpeg(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(owner=make.user(), slug="coloc")
    slug = make_event(db)
    version = set_cover(db, slug, image_bytes(Image.new("RGB", (2000, 1000), RED), "PNG"))

    large = client.get(f"/e/{slug}/cover.jpg?v={version}")
    assert large.status_code == 200
    assert large.headers["content-type"] == "image/jpeg"
    assert large.headers["x-content-type-options"] == "nosniff"
    assert large.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "set-cookie" not in large.headers  # a shared cache may keep it: no cookie rides
    assert Image.open(io.BytesIO(large.content)).size == (1600, 800)
    etag = large.headers["etag"]

    small = client.get(f"/e/{slug}/cover-small.jpg?v={version}")
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(small.content)).size == (480, 240)
    assert small.headers["etag"] != etag

    assert_revalidates(client, f"/e/{slug}/cover.jpg?v={version}", large)

    # A bare or outdated address still works, but is only cached briefly.
    bare = client.get(f"/e/{slug}/cover.jpg")
    assert bare.status_code == 200 and bare.headers["cache-control"] == "public, max-age=300"
    old = client.get(f"/e/{slug}/cover.jpg?v=0000000000000000")
    assert old.headers["cache-control"] == "public, max-age=300"

    head = client.head(f"/e/{slug}/cover.jpg?v={version}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(large.content))


def test_a_drafts_cover_is_not_public(client: Client, make: Factories, db: Database) -> None:
    make.community(owner=make.user(), slug="coloc")
    slug = make_event(db, publish=False)
    version = set_cover(db, slug, phone_photo())
    assert client.get(f"/e/{slug}/cover.jpg?v={version}").status_code == 404
    assert client.get(f"/e/{slug}/cover-small.jpg").status_code == 404
    assert client.get("/e/no-such-event/cover.jpg").status_code == 404


def test_the_event_page_shows_the_cover_and_shares_it(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(owner=make.user(), slug="coloc")
    slug = make_event(db)
    before = client.get(f"/e/{slug}")  # cached now, without a cover
    assert "og:image" not in before.text and 'content="summary"' in before.text

    version = set_cover(db, slug, image_bytes(Image.new("RGB", (1200, 630), BLUE), "PNG"))
    page = client.get(f"/e/{slug}")
    assert f'<img class="event-cover" src="/e/{slug}/cover.jpg?v={version}" alt=""' in page.text
    absolute = f"{BASE_URL}/e/{slug}/cover.jpg?v={version}"
    assert f'<meta property="og:image" content="{absolute}">' in page.text
    assert '<meta property="og:image:width" content="1200">' in page.text
    assert 'name="twitter:card" content="summary_large_image"' in page.text
    assert f'"image": ["{absolute}"]' in page.text  # the JSON-LD too

    # A new picture: the cached page follows at once, with the new address.
    newer = set_cover(db, slug, image_bytes(Image.new("RGB", (1200, 630), RED), "PNG"))
    assert newer != version
    assert f"cover.jpg?v={newer}" in client.get(f"/e/{slug}").text


def test_the_cards_show_the_small_cover(client: Client, make: Factories, db: Database) -> None:
    make.community(owner=make.user(), slug="coloc")
    slug = make_event(db)
    assert "cover-small.jpg" not in client.get("/").text  # cached without it
    version = set_cover(db, slug, image_bytes(Image.new("RGB", (1600, 900), RED), "PNG"))
    card = f'src="/e/{slug}/cover-small.jpg?v={version}" alt="" width="480" height="270"'
    assert card in client.get("/").text
    assert card in client.get("/", headers={"HX-Request": "true"}).text  # the htmx list
    assert card in client.get("/g/coloc").text


def test_the_uploaded_file_is_never_served_as_it_came(owner_client: Client, db: Database) -> None:
    slug = make_event(db)
    source = phone_photo()
    assert upload(owner_client, slug, source).status_code == 303
    served = owner_client.get(f"/e/{slug}/cover.jpg?v={cover_version(db, slug)}")
    assert served.status_code == 200 and served.content != source
    assert b"SecretModel" not in served.content and b"Exif" not in served.content


def test_matrix_style_empty_posts_never_fail(owner_client: Client, db: Database) -> None:
    slug = make_event(db)
    token = owner_client.csrf_token()
    response: httpx.Response = owner_client.post(
        f"/manage/coloc/events/{slug}/cover",
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code == 400
