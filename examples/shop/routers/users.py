"""``/users``: registration (with background work), profile, avatar, e-mails, roles."""

from __future__ import annotations

from typing import Annotated

from pydantic import EmailStr
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hasten import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Request,
    UploadFile,
    status,
)
from hasten.exceptions import RequestValidationError
from hasten.responses import FileResponse

from ..db import get_db
from ..models import OutboxEmail, User
from ..ratelimit import rate_limit
from ..schemas import (
    JSON_MAX_BYTES,
    EmailOut,
    Id,
    Page,
    PaginationParams,
    RegisterOut,
    RoleUpdate,
    TaskAccepted,
    UserOut,
    documented,
)
from ..security import CurrentUser, Passwords, RoleChecker, get_passwords, get_settings
from ..settings import Settings
from ..tasks import (
    ALLOWED_IMAGE_TYPES,
    EmailSender,
    ImageTooLarge,
    get_email_sender,
    image_size,
    send_user_work,
    sniff_matches,
)

router = APIRouter(
    prefix="/users", tags=["users"], dependencies=[Depends(rate_limit)], responses=documented(429)
)

Db = Annotated[AsyncSession, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
admins_only = RoleChecker(["admin"])

USERNAME_PATTERN = r"^[a-zA-Z0-9_.-]{3,32}$"


async def read_avatar(upload: UploadFile | None, settings: Settings) -> bytes | None:
    """The uploaded image's bytes: 415 for a type that is not an image, 413 when too large,
    422 when its header declares more than ``AVATAR_MAX_SIDE`` pixels a side (checked before
    anything is decoded)."""
    if upload is None:
        return None
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in ALLOWED_IMAGE_TYPES:
        allowed = ", ".join(sorted(ALLOWED_IMAGE_TYPES))
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"Avatar must be one of {allowed}; got {content_type or 'no type'}",
        )
    data = await upload.read(settings.avatar_max_bytes + 1)
    if len(data) > settings.avatar_max_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"Avatar must be at most {settings.avatar_max_bytes} bytes",
        )
    if not sniff_matches(content_type, data[:16]):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"Avatar content is not {content_type}",
        )
    try:
        image_size(data)
    except ImageTooLarge as exc:
        error = {"type": "value_error", "loc": ("body", "avatar"), "msg": str(exc), "input": None}
        raise RequestValidationError([error]) from None
    return data


@router.post(
    "/register",
    response_model=RegisterOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        **documented(400),
        409: {"description": "Username or e-mail taken"},
        413: {"description": "Avatar (or the whole request) too large"},
        415: {"description": "Avatar is not a PNG, JPEG or WebP image"},
    },
    summary="Sign up",
)
async def register(
    request: Request,
    username: Annotated[str, Form(pattern=USERNAME_PATTERN)],
    email: Annotated[EmailStr, Form()],
    password: Annotated[str, Form(min_length=8, max_length=128)],
    db: Db,
    settings: AppSettings,
    passwords: Annotated[Passwords, Depends(get_passwords)],
    sender: Annotated[EmailSender, Depends(get_email_sender)],
    avatar: Annotated[UploadFile | None, File(description="PNG, JPEG or WebP")] = None,
) -> RegisterOut:
    """Create the account and answer 201 at once; the welcome e-mail and the avatar
    (a thumbnail of the upload, or a generated one) are made in the background:
    follow them with ``GET /tasks/{task_id}``."""
    image = await read_avatar(avatar, settings)
    # Hash before the first query: the (slow) hash never runs inside the transaction.
    password_hash = await passwords.hash(password)
    taken = await db.scalar(
        select(func.count())
        .select_from(User)
        .where(or_(User.username == username, User.email == email.lower()))
    )
    if taken:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="Username or e-mail already taken")
    user = User(
        username=username,
        email=email.lower(),
        password_hash=password_hash,
        role="customer",
    )
    db.add(user)
    try:
        await db.flush()  # a concurrent registration of the same name or e-mail fails here
    except IntegrityError:
        await db.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="Username or e-mail already taken"
        ) from None
    task_id = await send_user_work(request, db, sender, user.id, image, welcome=True)
    return RegisterOut(user=UserOut.from_user(user), task_id=task_id)


@router.get("/me", response_model=UserOut, responses=documented(401), summary="The current user")
async def me(user: CurrentUser) -> UserOut:
    return UserOut.from_user(user)


@router.get(
    "/me/emails",
    response_model=list[EmailOut],
    responses=documented(401),
    summary="E-mails sent to me",
)
async def my_emails(user: CurrentUser, db: Db) -> list[OutboxEmail]:
    """Messages the default (outbox) sender stored for the current user."""
    rows = await db.scalars(
        select(OutboxEmail).where(OutboxEmail.recipient == user.email).order_by(OutboxEmail.id)
    )
    return list(rows)


@router.put(
    "/me/avatar",
    response_model=TaskAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**documented(400, 401, 413), 415: {"description": "Not an image"}},
    summary="Replace my avatar",
)
async def upload_avatar(
    request: Request,
    user: CurrentUser,
    db: Db,
    settings: AppSettings,
    sender: Annotated[EmailSender, Depends(get_email_sender)],
    avatar: Annotated[UploadFile, File(description="PNG, JPEG or WebP")],
) -> TaskAccepted:
    image = await read_avatar(avatar, settings)
    task_id = await send_user_work(request, db, sender, user.id, image, welcome=False)
    return TaskAccepted(task_id=task_id)


@router.get(
    "/{user_id:int}/avatar",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "No avatar"}},
    summary="A user's avatar (PNG)",
)
async def get_avatar(user_id: Id, db: Db, settings: AppSettings) -> FileResponse:
    user = await db.get(User, user_id)
    if user is None or user.avatar_path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Avatar not found")
    return FileResponse(settings.media_dir / "avatars" / user.avatar_path, media_type="image/png")


@router.get(
    "", response_model=Page[UserOut], responses=documented(401, 403), summary="List users (admin)"
)
async def list_users(
    db: Db,
    pagination: Annotated[PaginationParams, Depends()],
    _admin: Annotated[User, Depends(admins_only)],
) -> Page[UserOut]:
    total = await db.scalar(select(func.count()).select_from(User))
    rows = await db.scalars(
        select(User).order_by(User.id).limit(pagination.limit).offset(pagination.offset)
    )
    return Page[UserOut](
        items=[UserOut.from_user(u) for u in rows],
        total=total or 0,
        limit=pagination.limit,
        offset=pagination.offset,
    )


@router.patch(
    "/{user_id:int}/role",
    response_model=UserOut,
    responses={
        **documented(400, 401, 403, 413),
        404: {"description": "No such user"},
        409: {"description": "The last admin"},
    },
    summary="Change a role (admin)",
    max_body_size=JSON_MAX_BYTES,
)
async def set_role(
    user_id: Id,
    data: RoleUpdate,
    db: Db,
    _admin: Annotated[User, Depends(admins_only)],
) -> UserOut:
    """Change a user's role; the last admin cannot be demoted (409)."""
    user = await db.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="User not found")
    if user.role == "admin" and data.role != "admin":
        # Lock the admins' rows (PostgreSQL; SQLite writers are serialised already), so two
        # admins demoting each other at once cannot both succeed.
        admins = await db.scalars(select(User.id).where(User.role == "admin").with_for_update())
        if len(list(admins)) <= 1:
            raise HTTPException(status.HTTP_409_CONFLICT, detail="Cannot demote the last admin")
    user.role = data.role
    await db.commit()
    return UserOut.from_user(user)
