"""``/products``: the catalogue. Anyone reads; staff and admins write; only admins delete."""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from hasten import APIRouter, Depends, HTTPException, Query, Response, status

from ..db import get_db
from ..models import Product, User, utcnow
from ..ratelimit import rate_limit
from ..schemas import (
    JSON_MAX_BYTES,
    Id,
    Page,
    PaginationParams,
    ProductCreate,
    ProductFilters,
    ProductOut,
    ProductUpdate,
    documented,
)
from ..security import RoleChecker, require_admin

router = APIRouter(
    prefix="/products",
    tags=["products"],
    dependencies=[Depends(rate_limit)],
    responses={404: {"description": "Product not found"}, **documented(429)},
)

Db = Annotated[AsyncSession, Depends(get_db)]
staff_or_admin = RoleChecker(["admin", "staff"])


def _filtered(filters: ProductFilters) -> Select[Product]:
    query = select(Product).where(Product.deleted_at.is_(None))
    if filters.q:
        query = query.where(func.lower(Product.name).contains(filters.q.lower(), autoescape=True))
    if filters.min_price is not None:
        query = query.where(Product.price >= filters.min_price)
    if filters.max_price is not None:
        query = query.where(Product.price <= filters.max_price)
    if filters.in_stock is True:
        query = query.where(Product.stock > 0)
    elif filters.in_stock is False:
        query = query.where(Product.stock == 0)
    return query


async def _get_live(db: AsyncSession, product_id: int) -> Product:
    product = await db.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Product not found")
    return product


@router.get("", response_model=Page[ProductOut], summary="List products")
async def list_products(
    db: Db,
    pagination: Annotated[PaginationParams, Depends()],
    filters: Annotated[ProductFilters, Query()],
) -> dict[str, object]:
    """Products, filtered by ``q``, ``min_price``, ``max_price``, ``in_stock``, paginated."""
    query = _filtered(filters)
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    rows = await db.scalars(
        query.order_by(Product.id).limit(pagination.limit).offset(pagination.offset)
    )
    return {
        "items": list(rows),
        "total": total or 0,
        "limit": pagination.limit,
        "offset": pagination.offset,
    }


@router.get("/{product_id}", response_model=ProductOut, summary="Get a product")
async def get_product(product_id: Id, db: Db) -> Product:
    return await _get_live(db, product_id)


@router.post(
    "",
    response_model=ProductOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "SKU already used"}, **documented(400, 401, 403, 413)},
    summary="Create a product (staff or admin)",
    max_body_size=JSON_MAX_BYTES,
)
async def create_product(
    data: ProductCreate,
    db: Db,
    _user: Annotated[User, Depends(staff_or_admin)],
) -> Product:
    product = Product(**data.model_dump())
    db.add(product)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"SKU {data.sku} is already used"
        ) from None
    return product


@router.patch(
    "/{product_id}",
    response_model=ProductOut,
    responses=documented(400, 401, 403, 413),
    summary="Update a product",
    max_body_size=JSON_MAX_BYTES,
)
async def update_product(
    product_id: Id,
    data: ProductUpdate,
    db: Db,
    _user: Annotated[User, Depends(staff_or_admin)],
) -> Product:
    product = await _get_live(db, product_id)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(product, field, value)
    await db.commit()
    return product


@router.delete(
    "/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=documented(401, 403),
    summary="Delete a product (admin)",
)
async def delete_product(
    product_id: Id,
    db: Db,
    _admin: Annotated[User, Depends(require_admin)],
) -> Response:
    """Soft delete: past orders keep pointing at it, listings no longer show it."""
    product = await _get_live(db, product_id)
    product.deleted_at = utcnow()
    await db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
