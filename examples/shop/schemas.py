"""Pydantic v2 models: what clients send (validated) and what they get back (filtered).

Response models never carry internal fields (password hashes, cost prices, notes, soft-delete
markers): the ORM objects have them, ``response_model`` drops them.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hasten import Path, Query

from .models import User

INT32_MAX = 2**31 - 1
"""The largest value of an ``Integer`` column on PostgreSQL (SQLite's hold up to 2**63 - 1).
Every integer the API accepts is bounded by it (or less): beyond, 422, never a database error."""
INT64_MAX = 2**63 - 1
STOCK_MAX = 1_000_000_000
"""The most stock a product may be given, leaving room below ``INT32_MAX`` for returned items."""
MONEY_LIMIT = Decimal("100000000")
"""Prices and costs are below this (``Numeric(10, 2)``)."""
ORDER_TOTAL_LIMIT = Decimal("10000000000")
"""An order's total is below this (``Numeric(12, 2)``)."""

JSON_MAX_BYTES = 64 * 1024
"""The body limit of the JSON (and small form) endpoints: a larger body is refused with 413
before it is read, so it is never parsed before authentication and rate limiting run."""
MULTIPART_OVERHEAD = 64 * 1024
"""What a multipart request may carry besides its file (fields, boundaries, headers)."""

Id = Annotated[int, Path(ge=1, le=INT32_MAX, description="A positive id (at most 2**31 - 1)")]
"""A path id: bounded to the ``Integer`` primary keys."""

_STATUSES: dict[int, str] = {
    400: "The body could not be parsed",
    401: "Not authenticated",
    403: "Not allowed for this role",
    413: "Body too large",
    429: "Too many requests: retry after Retry-After seconds",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the shop's common refusals (so OpenAPI lists them)."""
    return {code: {"description": _STATUSES[code]} for code in codes}


SKU_PATTERN = re.compile(r"^[A-Z]{3}-\d{5}$")
"""A SKU is three capital letters, a dash and five digits, e.g. ``ABC-12345``."""

T = TypeVar("T")


# --- products -----------------------------------------------------------------------------


def _check_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("name must not be blank")
    if len(value) > 120:
        raise ValueError("name must be at most 120 characters")
    return value


def _check_price(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("price must be positive")
    return _check_money(value, "price")


def _check_money(value: Decimal, field: str) -> Decimal:
    if value < 0:
        raise ValueError(f"{field} must not be negative")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"{field} must have at most two decimal places")
    if value >= MONEY_LIMIT:
        raise ValueError(f"{field} must be below {MONEY_LIMIT}")
    return value.quantize(Decimal("0.01"))  # "1e3" -> 1000.00, "4.5" -> 4.50


def _check_cost(value: Decimal | None) -> Decimal | None:
    return None if value is None else _check_money(value, "cost")


def _check_sku(value: str) -> str:
    value = value.strip()
    if not SKU_PATTERN.fullmatch(value):
        raise ValueError("SKU must match ABC-12345: three capital letters, a dash and five digits")
    return value


def _check_description(value: str) -> str:
    value = value.strip()
    if not 10 <= len(value) <= 1000:
        raise ValueError(f"description must be between 10 and 1000 characters (got {len(value)})")
    return value


class ProductCreate(BaseModel):
    """A new product. ``cost`` and ``internal_notes`` are stored but never shown."""

    sku: str = Field(examples=["ABC-12345"])
    name: str = Field(examples=["Espresso cup"])
    description: str = Field(examples=["A small porcelain cup for espresso."])
    price: Decimal = Field(examples=["4.50"])
    stock: int = Field(default=0, ge=0, le=STOCK_MAX)
    cost: Decimal | None = None
    internal_notes: str | None = None

    _name = field_validator("name")(_check_name)
    _price = field_validator("price")(_check_price)
    _cost = field_validator("cost")(_check_cost)
    _sku = field_validator("sku")(_check_sku)
    _description = field_validator("description")(_check_description)


class ProductUpdate(BaseModel):
    """A partial update: only the fields sent are changed, with the same rules."""

    name: str | None = None
    description: str | None = None
    price: Decimal | None = None
    stock: int | None = Field(default=None, ge=0, le=STOCK_MAX)
    cost: Decimal | None = None
    internal_notes: str | None = None

    _cost = field_validator("cost")(_check_cost)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _check_name(value)

    @field_validator("price")
    @classmethod
    def _price(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else _check_price(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return None if value is None else _check_description(value)

    @model_validator(mode="after")
    def _no_null_required(self) -> ProductUpdate:
        for field in ("name", "description", "price", "stock"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class ProductOut(BaseModel):
    """A product as customers see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    description: str
    price: Decimal
    stock: int


class Page(BaseModel, Generic[T]):
    """One page of a listing."""

    items: list[T]
    total: int
    limit: int
    offset: int


class PaginationParams:
    """``?limit=&offset=`` as a class dependency: ``Depends()`` builds it from the query."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
        offset: Annotated[int, Query(ge=0, le=INT32_MAX, description="Items to skip")] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset


class ProductFilters(BaseModel):
    """Filters of ``GET /products`` (a query-parameter model)."""

    q: str | None = Field(default=None, max_length=100, description="Text in the name")
    min_price: Decimal | None = Field(default=None, ge=0, lt=MONEY_LIMIT, decimal_places=2)
    max_price: Decimal | None = Field(default=None, ge=0, lt=MONEY_LIMIT, decimal_places=2)
    in_stock: bool | None = None

    @model_validator(mode="after")
    def _price_range(self) -> ProductFilters:
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            raise ValueError("min_price must not exceed max_price")
        return self


# --- users and auth -----------------------------------------------------------------------

Role = Literal["customer", "staff", "admin"]


class UserOut(BaseModel):
    """A user as shown to clients (never the password hash)."""

    id: int
    username: str
    email: str
    role: str
    has_avatar: bool

    @classmethod
    def from_user(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            role=user.role,
            has_avatar=user.avatar_path is not None,
        )


class RegisterOut(BaseModel):
    """``POST /users/register``: the new user and the id of its background task."""

    user: UserOut
    task_id: str


class TaskAccepted(BaseModel):
    """A background task was queued."""

    task_id: str


class RoleUpdate(BaseModel):
    role: Role


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class EmailOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    recipient: str
    subject: str
    body: str
    created_at: datetime


# --- orders -------------------------------------------------------------------------------


class OrderLine(BaseModel):
    product_id: int = Field(ge=1, le=INT32_MAX)
    quantity: int = Field(ge=1, le=1000)


class OrderCreate(BaseModel):
    items: list[OrderLine] = Field(min_length=1, max_length=50)

    @field_validator("items")
    @classmethod
    def _distinct_products(cls, items: list[OrderLine]) -> list[OrderLine]:
        ids = [line.product_id for line in items]
        if len(ids) != len(set(ids)):
            raise ValueError("each product may appear only once per order")
        return items


class OrderItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int
    quantity: int
    unit_price: Decimal


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    status: str
    total: Decimal
    created_at: datetime
    items: list[OrderItemOut]
