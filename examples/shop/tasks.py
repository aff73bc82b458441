"""Background work with a status you can poll: e-mail senders, avatar processing, the runner.

The work is a task on ``hasten.taskqueue`` (`user_work`): its status, attempts, result and
error are the queue's record, which ``GET /tasks/{id}`` answers. It runs in the server process
by default and in a worker process with ``SHOP_TASK_BROKER_URL`` set. The sessionmakers given to
this module are writers (``create_sessionmaker(engine, writer=True)``).
"""

from __future__ import annotations

import hashlib
import io
import smtplib
import uuid
import warnings
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread
from PIL import Image, ImageDraw, ImageOps
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hasten import Request
from hasten.taskqueue import QueueTask, TaskQueue

from .models import OutboxEmail, User
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


# --- the work, on hasten.taskqueue --------------------------------------------------------
#
# Registration and avatar work is one task, ``shop.user_work``, declared on a
# ``hasten.taskqueue.TaskQueue``; its status is the queue's record (``GET /tasks/{id}``), the shop
# keeps no table of its own. Without ``SHOP_TASK_BROKER_URL`` each app has an in-process queue
# (statuses in its memory) and the task runs on the server's event loop, with the app's database
# and e-mail sender. With it, the task is sent to Dramatiq and a worker process (``hasten worker
# examples.shop.tasks:queue``) runs it with its own database engine and sender, built from the
# same settings; the statuses are in Redis, so every server process answers the same.

Step = tuple[str, Callable[[], Awaitable[None]]]


class StepFailed(Exception):
    """Steps of a task failed (the others still ran): the task is ``failed``, not retried."""


async def run_steps(steps: Sequence[Step]) -> list[dict[str, str | None]]:
    """Run the steps in order; a failing step does not stop the next ones. Each step's outcome
    (the task's result), or `StepFailed` naming the failed steps and their errors."""
    outcomes: list[dict[str, str | None]] = []
    failures: list[str] = []
    for name, step in steps:
        try:
            await step()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            outcomes.append({"name": name, "status": "failed", "error": error})
            failures.append(f"{name}: {error}")
        else:
            outcomes.append({"name": name, "status": "done", "error": None})
    if failures:
        raise StepFailed("; ".join(failures))
    return outcomes


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


def upload_path(settings: Settings, upload: str) -> Path:
    """Where an uploaded avatar waits for the task (the media directory is shared)."""
    return settings.media_dir / "uploads" / upload


@dataclass(frozen=True)
class TaskResources:
    """What the task works with: the app's, when it runs in the server process."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    sender: EmailSender


_in_app: ContextVar[TaskResources | None] = ContextVar("shop_task_resources", default=None)
"""Set by the endpoint around an in-process ``enqueue`` (the task's asyncio task copies it)."""


class _WorkerState:
    """The worker process's resources, made on its first task (on its event loop)."""

    resources: TaskResources | None = None


def _resources() -> TaskResources:
    here = _in_app.get()
    if here is not None:
        return here
    if _WorkerState.resources is None:
        from .db import create_engine, create_sessionmaker

        settings = Settings()
        sessionmaker = create_sessionmaker(create_engine(settings), writer=True)
        sender = make_email_sender(settings, sessionmaker)
        _WorkerState.resources = TaskResources(settings, sessionmaker, sender)
    return _WorkerState.resources


_TASK_OPTIONS: dict[str, Any] = {
    "name": "shop.user_work",
    "retries": 3,
    "min_backoff": 0.5,
    "max_backoff": 30.0,
    "throws": (StepFailed,),
}


async def _user_work(
    user_id: int, welcome: bool, upload: str | None
) -> list[dict[str, str | None]]:
    """A registration's (``welcome``) or an avatar upload's steps: the welcome e-mail, then the
    avatar (a thumbnail of ``upload``, or a generated one). Each step's outcome."""
    res = _resources()
    async with res.sessionmaker() as session:
        user = await session.get(User, user_id)
    if user is None:  # sent before the request's commit: retried
        raise LookupError(f"user {user_id} is not committed yet")
    path = upload_path(res.settings, upload) if upload else None
    image = await anyio.to_thread.run_sync(path.read_bytes) if path is not None else None
    steps: list[Step] = []
    if welcome:

        async def send_welcome() -> None:
            await res.sender.send(welcome_email(user))

        steps.append(("welcome_email", send_welcome))

    async def avatar() -> None:
        size = res.settings.avatar_size
        if image is None:
            png = default_avatar(user.username, size)
        else:
            png = await anyio.to_thread.run_sync(make_thumbnail, image, size)
        await store_avatar(res.sessionmaker, res.settings.media_dir, user.id, png)

    steps.append(("avatar", avatar))
    try:
        return await run_steps(steps)
    finally:
        if path is not None:
            path.unlink(missing_ok=True)


user_work = queue.task(**_TASK_OPTIONS)(_user_work)
"""The task on the environment's queue (the one ``hasten worker`` runs)."""


def user_work_for(settings: Settings) -> QueueTask[..., Any]:
    """The task an app with ``settings`` sends: on the broker (the module's `queue`, which the
    worker imports) when ``task_broker_url`` is set, else on an in-process queue of its own."""
    if not settings.task_broker_url:
        return TaskQueue().task(**_TASK_OPTIONS)(_user_work)
    if queue.broker_url != settings.task_broker_url:
        raise RuntimeError(
            "the app's task_broker_url differs from SHOP_TASK_BROKER_URL in the environment, "
            "which examples.shop.tasks.queue (and the worker) use"
        )
    return user_work


async def send_user_work(
    request: Request,
    db: AsyncSession,
    sender: EmailSender,
    user_id: int,
    image: bytes | None,
    *,
    welcome: bool,
) -> str:
    """Queue the work of ``user_id``, commit ``db`` and return the task's id.

    In-process, ``db`` is committed first (the task may start at once) and the task runs with
    the app's database and ``sender`` (the request's, so that tests can replace it). With a
    broker, the task is sent first: when the broker is unreachable the request fails with 503
    and nothing (user, upload) is left behind; the worker retries until it sees the commit."""
    settings: Settings = request.app.state.settings
    task: QueueTask[..., Any] = request.app.state.user_work
    distributed = task.queue.distributed
    if not distributed:
        await db.commit()
    upload = None
    if image is not None:
        upload = uuid.uuid4().hex
        path = upload_path(settings, upload)
        path.parent.mkdir(parents=True, exist_ok=True)
        await anyio.to_thread.run_sync(path.write_bytes, image)
    token = _in_app.set(TaskResources(settings, request.app.state.write_sessionmaker, sender))
    try:
        info = await task.enqueue(user_id, welcome, upload)
    except Exception:
        if upload is not None:
            upload_path(settings, upload).unlink(missing_ok=True)
        await db.rollback()
        raise
    finally:
        _in_app.reset(token)
    if distributed:
        await db.commit()
    return info.id
