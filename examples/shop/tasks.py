"""Background work with a status you can poll: e-mail senders, avatar processing, the runner.

A task is a row in ``tasks`` with ordered steps in ``task_steps``; ``run_task`` executes the
steps after the response was sent, each with its own short database session, and records
``running``/``done``/``failed`` (with the error) as it goes. With ``SHOP_TASK_BROKER_URL`` set,
a worker process runs them instead (`user_work`, on ``hasten.taskqueue``). The sessionmakers given to this
module are writers (``create_sessionmaker(engine, writer=True)``).
"""

from __future__ import annotations

import hashlib
import io
import smtplib
import uuid
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import anyio.to_thread
from PIL import Image, ImageDraw, ImageOps
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hasten import Request
from hasten.taskqueue import TaskQueue

from .models import OutboxEmail, Task, TaskStep, User, utcnow
from .settings import Settings

# --- e-mail -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Email:
    recipient: str
    subject: str
    body: str


class EmailSender(Protocol):
    """Anything that can deliver an ``Email``."""

    async def send(self, email: Email) -> None: ...


class OutboxSender:
    """The default: store messages in the ``outbox`` table (``GET /users/me/emails``)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def send(self, email: Email) -> None:
        async with self.sessionmaker() as session:
            session.add(
                OutboxEmail(recipient=email.recipient, subject=email.subject, body=email.body)
            )
            await session.commit()


class SmtpSender:
    """Deliver through an SMTP server (used when ``SHOP_SMTP_HOST`` is set)."""

    def __init__(self, settings: Settings, host: str) -> None:
        self.settings = settings
        self.host = host

    def _send_sync(self, email: Email) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.mail_from
        message["To"] = email.recipient
        message["Subject"] = email.subject
        message.set_content(email.body)
        with smtplib.SMTP(self.host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password)
            smtp.send_message(message)

    async def send(self, email: Email) -> None:
        await anyio.to_thread.run_sync(self._send_sync, email)


def make_email_sender(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> EmailSender:
    """SMTP when configured, the local outbox otherwise."""
    if settings.smtp_host:
        return SmtpSender(settings, settings.smtp_host)
    return OutboxSender(sessionmaker)


def get_email_sender(request: Request) -> EmailSender:
    """Dependency: the app's sender (tests override it with a fake)."""
    sender: EmailSender = request.app.state.email_sender
    return sender


def welcome_email(user: User) -> Email:
    return Email(
        recipient=user.email,
        subject="Welcome to the Hasten Shop",
        body=f"Hello {user.username},\n\nyour account is ready. Happy shopping!\n",
    )


# --- avatars ------------------------------------------------------------------------------

AVATAR_MAX_SIDE = 4096
"""Uploaded images wider or taller than this are refused before being decoded."""
AVATAR_MAX_PIXELS = AVATAR_MAX_SIDE * AVATAR_MAX_SIDE
"""At most 16.8 megapixels (about 50 MiB decoded as RGB): Pillow's own limit, made an error."""
Image.MAX_IMAGE_PIXELS = AVATAR_MAX_PIXELS
# Pillow only warns between MAX_IMAGE_PIXELS and twice that, and decodes anyway: refuse.
warnings.simplefilter("error", Image.DecompressionBombWarning)

ALLOWED_IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
_MAGIC = {"PNG": (b"\x89PNG\r\n\x1a\n",), "JPEG": (b"\xff\xd8\xff",), "WEBP": (b"RIFF",)}


def sniff_matches(content_type: str, head: bytes) -> bool:
    """Whether the first bytes look like the declared image type."""
    return head.startswith(_MAGIC[ALLOWED_IMAGE_TYPES[content_type]])


class InvalidImage(ValueError):
    """The upload passed the type checks but cannot be decoded."""


class ImageTooLarge(ValueError):
    """The image's header declares more pixels than ``AVATAR_MAX_SIDE`` allows."""


_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height read from the image's header (nothing is decoded: ``Image.open`` is
    lazy); ``None`` when the header cannot be read. Raises ``ImageTooLarge`` past the caps."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except _BOMB:  # Pillow's own check, at AVATAR_MAX_PIXELS
        raise ImageTooLarge(_TOO_LARGE) from None
    except (OSError, ValueError, SyntaxError):
        return None
    _check_size(width, height)
    return width, height


_TOO_LARGE = f"the image is too large: at most {AVATAR_MAX_SIDE}x{AVATAR_MAX_SIDE} pixels"


def _check_size(width: int, height: int) -> None:
    if width > AVATAR_MAX_SIDE or height > AVATAR_MAX_SIDE:
        raise ImageTooLarge(f"{_TOO_LARGE} (it has {width}x{height})")


def make_thumbnail(data: bytes, size: int) -> bytes:
    """Decode an uploaded image and return a square ``size``×``size`` PNG thumbnail.

    The dimensions are checked from the header before anything is decoded."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            _check_size(*image.size)
            image.load()
            thumb = ImageOps.fit(image.convert("RGB"), (size, size))
    except ImageTooLarge:
        raise
    except _BOMB:
        raise ImageTooLarge(_TOO_LARGE) from None
    except (OSError, ValueError) as exc:
        raise InvalidImage(f"cannot decode the image ({exc})") from exc
    out = io.BytesIO()
    thumb.save(out, format="PNG")
    return out.getvalue()


def default_avatar(username: str, size: int) -> bytes:
    """A generated avatar: a colour picked from the name and its first letter."""
    digest = hashlib.sha256(username.encode()).digest()
    image = Image.new("RGB", (size, size), (digest[0], digest[1], digest[2]))
    draw = ImageDraw.Draw(image)
    draw.text((size // 2, size // 2), username[:1].upper(), fill="white", anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def store_avatar(
    sessionmaker: async_sessionmaker[AsyncSession],
    media_dir: Path,
    user_id: int,
    png: bytes,
) -> None:
    """Write the PNG under ``media_dir/avatars`` and point the user at it."""
    path = media_dir / "avatars" / f"{user_id}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await anyio.to_thread.run_sync(path.write_bytes, png)
    async with sessionmaker() as session:
        await session.execute(update(User).where(User.id == user_id).values(avatar_path=path.name))
        await session.commit()


# --- the runner ---------------------------------------------------------------------------

Step = tuple[str, Callable[[], Awaitable[None]]]


async def create_task(
    session: AsyncSession, kind: str, step_names: Sequence[str], user_id: int | None
) -> str:
    """Insert a task with its steps (all ``pending``); the caller commits."""
    task_id = str(uuid.uuid4())
    session.add(Task(id=task_id, kind=kind, user_id=user_id))
    await session.flush()
    session.add_all(TaskStep(task_id=task_id, name=name, status="pending") for name in step_names)
    return task_id


async def _set_status(
    sessionmaker: async_sessionmaker[AsyncSession],
    task_id: str,
    name: str,
    status: str,
    error: str | None = None,
) -> None:
    async with sessionmaker() as session:
        await session.execute(
            update(TaskStep)
            .where(TaskStep.task_id == task_id, TaskStep.name == name)
            .values(status=status, error=error, updated_at=utcnow())
        )
        await session.commit()


async def run_task(
    sessionmaker: async_sessionmaker[AsyncSession], task_id: str, steps: Sequence[Step]
) -> None:
    """Run the steps in order; a failing step is recorded and the next one still runs."""
    for name, step in steps:
        await _set_status(sessionmaker, task_id, name, "running")
        try:
            await step()
        except Exception as exc:  # recorded for GET /tasks/{id}, not raised
            await _set_status(sessionmaker, task_id, name, "failed", f"{type(exc).__name__}: {exc}")
        else:
            await _set_status(sessionmaker, task_id, name, "done")


def overall_status(statuses: Sequence[str]) -> str:
    """One status for the whole task from its steps' statuses."""
    if "failed" in statuses:
        return "failed"
    if all(s == "done" for s in statuses):
        return "done"
    if all(s == "pending" for s in statuses):
        return "pending"
    return "running"


# --- on the task queue (when SHOP_TASK_BROKER_URL is set) ---------------------------------
#
# The steps above run in the server process after the response by default. With a broker
# configured, the endpoints send one message per task to Dramatiq (hasten.taskqueue) and a
# worker process (``hasten worker examples.shop.tasks:queue``) runs the same steps with its own
# database engine and e-mail sender, built from the same settings. The steps' statuses stay in
# the database, so ``GET /tasks/{id}`` answers the same from every server process; the queue's
# own record (attempts, retries, a lost worker) is kept in Redis.


def make_queue(settings: Settings) -> TaskQueue:
    """The shop's queue: on the broker when ``task_broker_url`` is set, in-process otherwise."""
    if settings.task_broker_url and not settings.redis_url:
        raise ValueError("SHOP_TASK_BROKER_URL needs SHOP_REDIS_URL (the task statuses)")
    return TaskQueue(
        settings.task_broker_url,
        store_url=settings.redis_url if settings.task_broker_url else None,
        queue_name=settings.task_queue_name,
        key_prefix=f"{settings.redis_prefix}task:",
    )


queue = make_queue(Settings())
"""Configured from the environment, as the worker process reads it."""


def queue_for(settings: Settings) -> TaskQueue | None:
    """The queue when ``settings`` send work to a broker, None when it runs in-process."""
    if not settings.task_broker_url:
        return None
    if queue.broker_url != settings.task_broker_url:
        raise RuntimeError(
            "the app's task_broker_url differs from SHOP_TASK_BROKER_URL in the environment, "
            "which examples.shop.tasks.queue (and the worker) use"
        )
    return queue


def upload_path(settings: Settings, task_id: str) -> Path:
    """Where an uploaded avatar waits for the worker (the media directory is shared)."""
    return settings.media_dir / "uploads" / task_id


class _WorkerState:
    """The worker process's engine and sender, made on its first task (on its event loop)."""

    sessionmaker: async_sessionmaker[AsyncSession] | None = None
    sender: EmailSender | None = None


async def _worker_resources(
    settings: Settings,
) -> tuple[async_sessionmaker[AsyncSession], EmailSender]:
    from .db import create_engine, create_sessionmaker

    if _WorkerState.sessionmaker is None or _WorkerState.sender is None:
        sessionmaker = create_sessionmaker(create_engine(settings), writer=True)
        _WorkerState.sessionmaker = sessionmaker
        _WorkerState.sender = make_email_sender(settings, sessionmaker)
    return _WorkerState.sessionmaker, _WorkerState.sender


@queue.task(name="shop.user_work", retries=3, min_backoff=0.5, max_backoff=30.0)
async def user_work(task_id: str, user_id: int, welcome: bool) -> str:
    """Run a registration's (``welcome``) or an avatar upload's steps in the worker."""
    settings = Settings()
    sessionmaker, sender = await _worker_resources(settings)
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        task = await session.get(Task, task_id)
    if user is None or task is None:  # sent before the request's commit: retried
        raise LookupError(f"task {task_id} or user {user_id} is not committed yet")
    upload = upload_path(settings, task_id)
    image = await anyio.to_thread.run_sync(upload.read_bytes) if upload.exists() else None
    steps: list[Step] = []
    if welcome:

        async def send_welcome() -> None:
            await sender.send(welcome_email(user))

        steps.append(("welcome_email", send_welcome))

    async def avatar() -> None:
        if image is None:
            png = default_avatar(user.username, settings.avatar_size)
        else:
            png = await anyio.to_thread.run_sync(make_thumbnail, image, settings.avatar_size)
        await store_avatar(sessionmaker, settings.media_dir, user.id, png)

    steps.append(("avatar", avatar))
    await run_task(sessionmaker, task_id, steps)
    upload.unlink(missing_ok=True)
    return task_id
