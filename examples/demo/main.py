"""The demo application: the basics of the FastAPI tutorial, written with ``hasten``.

Run it with ``./scripts/serve`` and open http://127.0.0.1:8000/docs.

- ``/items``: create, read, update, delete items kept in a dict (path, query and body
  parameters, validation constraints, ``response_model``, ``status_code=201``, 404).
- Writing needs a token (``X-Token`` header): token → user → role, three dependencies deep;
  a missing or unknown token answers 401, a user without the ``admin`` role answers 403.
- Creating an item records an audit entry in a background task (``GET /audit``).
- ``get_db`` is a generator dependency: its teardown runs after the response (``GET /db/stats``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from pydantic import BaseModel, Field

from hasten import (
    APIRouter,
    BackgroundTasks,
    Depends,
    Hasten,
    Header,
    HTTPException,
    Path,
    Query,
    status,
)

# --- storage ----------------------------------------------------------------------------------


class Database:
    """An in-memory store standing in for a real database session."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.items: dict[int, dict[str, object]] = {}
        self.next_id = 1
        self.sessions_opened = 0
        self.sessions_closed = 0


DB = Database()
AUDIT_LOG: list[str] = []

USERS: dict[str, dict[str, object]] = {
    "alice-token": {"username": "alice", "roles": ["admin"]},
    "bob-token": {"username": "bob", "roles": []},
}


def get_db() -> Iterator[Database]:
    """A "session" per request; the code after ``yield`` runs once the response is sent."""
    DB.sessions_opened += 1
    try:
        yield DB
    finally:
        DB.sessions_closed += 1


def reset_state() -> None:
    """Empty the store and the audit log (used by the tests)."""
    DB.reset()
    AUDIT_LOG.clear()


# --- models -----------------------------------------------------------------------------------


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    description: str | None = None
    price: float = Field(gt=0)
    tags: list[str] = []


class ItemOut(BaseModel):
    id: int
    name: str
    description: str | None = None
    price: float
    tags: list[str] = []


class User(BaseModel):
    username: str
    roles: list[str]


# --- security: a three-level dependency chain ------------------------------------------------


def get_token(x_token: Annotated[str | None, Header()] = None) -> str:
    """Level 1: the token from the ``X-Token`` header."""
    if not x_token:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "Token"},
        )
    return x_token


def get_current_user(token: Annotated[str, Depends(get_token)]) -> User:
    """Level 2: the user the token belongs to."""
    user = USERS.get(token)
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid token",
            headers={"WWW-Authenticate": "Token"},
        )
    return User.model_validate(user)


def require_admin(user: Annotated[User, Depends(get_current_user)]) -> User:
    """Level 3: only admins may change items."""
    if "admin" not in user.roles:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Not enough permissions")
    return user


# --- background task --------------------------------------------------------------------------


def write_audit(message: str) -> None:
    AUDIT_LOG.append(message)


# --- the items router -------------------------------------------------------------------------

router = APIRouter(prefix="/items", tags=["items"])

DbDep = Annotated[Database, Depends(get_db)]
AdminDep = Annotated[User, Depends(require_admin)]


def _find(db: Database, item_id: int) -> dict[str, object]:
    item = db.items.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item


@router.get("/", response_model=list[ItemOut])
def list_items(
    db: DbDep,
    q: Annotated[str | None, Query(max_length=50, description="Text in the name")] = None,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[dict[str, object]]:
    """List items, optionally filtered by a text in their name."""
    items = list(db.items.values())
    if q:
        items = [item for item in items if q.lower() in str(item["name"]).lower()]
    return items[skip : skip + limit]


@router.post("/", response_model=ItemOut, status_code=status.HTTP_201_CREATED)
def create_item(
    item: ItemIn, db: DbDep, user: AdminDep, background_tasks: BackgroundTasks
) -> dict[str, object]:
    """Create an item; an audit entry is written after the response is sent."""
    item_id = db.next_id
    db.next_id += 1
    stored: dict[str, object] = {"id": item_id, **item.model_dump()}
    db.items[item_id] = stored
    background_tasks.add_task(write_audit, f"{user.username} created item {item_id}")
    return stored


@router.get("/{item_id}", response_model=ItemOut)
def read_item(item_id: Annotated[int, Path(ge=1, title="The item id")], db: DbDep) -> object:
    return _find(db, item_id)


@router.put("/{item_id}", response_model=ItemOut)
def replace_item(
    item_id: Annotated[int, Path(ge=1)], item: ItemIn, db: DbDep, user: AdminDep
) -> dict[str, object]:
    _find(db, item_id)
    stored: dict[str, object] = {"id": item_id, **item.model_dump()}
    db.items[item_id] = stored
    return stored


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_item(item_id: Annotated[int, Path(ge=1)], db: DbDep, user: AdminDep) -> None:
    _find(db, item_id)
    del db.items[item_id]


# --- the application --------------------------------------------------------------------------

app = Hasten(
    title="Hasten demo",
    description="The basics of the FastAPI tutorial, served by Hasten.",
    version="0.1.0",
)
app.include_router(router)


@app.get("/", tags=["meta"])
async def root() -> dict[str, str]:
    return {"message": "Hello from Hasten", "docs": "/docs"}


@app.get("/users/me", response_model=User, tags=["users"])
def read_me(user: Annotated[User, Depends(get_current_user)]) -> User:
    return user


@app.get("/audit", tags=["meta"])
def read_audit() -> list[str]:
    """Entries written by background tasks."""
    return list(AUDIT_LOG)


@app.get("/db/stats", tags=["meta"])
def db_stats() -> dict[str, int]:
    """How many ``get_db`` sessions were opened and closed (teardown ran)."""
    return {"opened": DB.sessions_opened, "closed": DB.sessions_closed}
