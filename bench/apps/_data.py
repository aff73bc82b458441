"""Data and Pydantic models shared by the apps (the same for every framework)."""

from __future__ import annotations

from pydantic import BaseModel, Field

PLAINTEXT = "Hello, World!"
MESSAGE = {"message": "Hello, World!"}

#: token -> user; alice passes the role check, bob is a known user without the role.
TOKENS: dict[str, dict[str, str]] = {
    "tok-alice": {"name": "alice", "role": "admin"},
    "tok-bob": {"name": "bob", "role": "viewer"},
}

#: 100 user rows as a data layer would hand them over, with a field that must not leak.
USERS: list[dict[str, object]] = [
    {"id": i, "name": f"user{i}", "email": f"user{i}@example.com", "secret": f"s3cr3t-{i}"}
    for i in range(100)
]


class Dimensions(BaseModel):
    """A nested object of the POST /items body."""

    width: float = Field(gt=0)
    height: float = Field(gt=0)


class Item(BaseModel):
    """The POST /items body: a constrained string, a positive number, a list, a nested model."""

    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0)
    tags: list[str] = []
    dimensions: Dimensions


class UserOut(BaseModel):
    """What GET /users may show of a user (no ``secret``)."""

    id: int
    name: str
    email: str


class UserRow(UserOut):
    """A full user row (for frameworks whose idiom filters model instances, not dicts)."""

    secret: str
