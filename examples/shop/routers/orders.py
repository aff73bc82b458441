"""``/orders``: placing orders atomically, cancelling them, live events (SSE), chat (WebSocket).

Stock is taken with one conditional ``UPDATE … SET stock = stock - :n WHERE … stock >= :n``
per line, inside the order's transaction: of two orders racing for the last item, exactly one
updates a row; the other sees no row updated and answers 409. Cancelling is the same kind of
state change, ``UPDATE orders SET status = 'cancelled' WHERE id = :id AND status = 'placed'``:
of concurrent cancels of one order exactly one updates the row (and returns its stock); the
others wait for its row lock, then see no row updated and answer 409.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import suppress
from decimal import Decimal
from typing import Annotated, Any

import anyio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from hasten import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from hasten.broadcast import BroadcastError, Subscription
from hasten.exceptions import RequestValidationError
from hasten.sse import EventSourceResponse, ServerSentEvent

from ..db import get_db
from ..events import ChatRooms, EventBus
from ..models import Order, OrderItem, Product
from ..ratelimit import rate_limit
from ..schemas import (
    INT32_MAX,
    INT64_MAX,
    JSON_MAX_BYTES,
    ORDER_TOTAL_LIMIT,
    Id,
    OrderCreate,
    OrderOut,
    documented,
)
from ..security import CurrentUser, Principal, get_principal, load_principal

router = APIRouter(
    prefix="/orders",
    tags=["orders"],
    dependencies=[Depends(rate_limit)],
    responses=documented(401, 429),
)
chat_router = APIRouter(prefix="/orders", tags=["orders"])
"""The WebSocket chat: authenticated by a ``?token=`` query parameter (browsers cannot send
an ``Authorization`` header when opening a WebSocket)."""

Db = Annotated[AsyncSession, Depends(get_db)]


def _event_data(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "user_id": order.user_id,
        "status": order.status,
        "total": str(order.total),
    }


async def _take_stock(db: AsyncSession, product_id: int, quantity: int) -> Decimal:
    """Decrement stock if enough is left and return the unit price; 404/409 otherwise."""
    price = await db.scalar(
        update(Product)
        .where(
            Product.id == product_id,
            Product.deleted_at.is_(None),
            Product.stock >= quantity,
        )
        .values(stock=Product.stock - quantity)
        .returning(Product.price)
        .execution_options(synchronize_session=False)
    )
    if price is not None:
        return price
    left = await db.scalar(
        select(Product.stock).where(Product.id == product_id, Product.deleted_at.is_(None))
    )
    await db.rollback()
    if left is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Product {product_id} not found")
    raise HTTPException(
        status.HTTP_409_CONFLICT,
        detail=f"Not enough stock for product {product_id}: {left} left, {quantity} wanted",
    )


@router.post(
    "",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        **documented(400, 413),
        404: {"description": "Unknown product"},
        409: {"description": "Out of stock"},
    },
    summary="Place an order",
    max_body_size=JSON_MAX_BYTES,
)
async def place_order(data: OrderCreate, user: CurrentUser, db: Db, request: Request) -> Order:
    """Take the stock of every line and record the order, all in one transaction."""
    items: list[OrderItem] = []
    # A fixed lock order (by product id) keeps concurrent multi-line orders deadlock-free.
    for line in sorted(data.items, key=lambda line: line.product_id):
        price = await _take_stock(db, line.product_id, line.quantity)
        items.append(
            OrderItem(product_id=line.product_id, quantity=line.quantity, unit_price=price)
        )
    total = sum((item.unit_price * item.quantity for item in items), Decimal("0"))
    if total >= ORDER_TOTAL_LIMIT:
        await db.rollback()
        message = f"the order's total ({total}) must be below {ORDER_TOTAL_LIMIT}"
        error = {"type": "value_error", "loc": ("body", "items"), "msg": message, "input": None}
        raise RequestValidationError([error])
    order = Order(user_id=user.id, status="placed", total=total, items=items)
    db.add(order)
    await db.commit()
    events: EventBus = request.app.state.events
    await events.publish("order.created", order.id, order.user_id, _event_data(order))
    return order


async def _visible_order(db: AsyncSession, order_id: int, user_id: int, role: str) -> Order:
    order = await db.get(Order, order_id)
    if order is None or (order.user_id != user_id and role not in ("staff", "admin")):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Order not found")
    return order


@router.get("", response_model=list[OrderOut], summary="My orders (staff: all)")
async def list_orders(
    user: CurrentUser,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[Order]:
    query = select(Order).order_by(Order.id.desc()).limit(limit)
    if user.role not in ("staff", "admin"):
        query = query.where(Order.user_id == user.id)
    return list(await db.scalars(query))


@router.get(
    "/events",
    response_class=EventSourceResponse,
    summary="Live order events (Server-Sent Events)",
)
async def order_events(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    last_event_id: Annotated[int | None, Header(ge=0, le=INT64_MAX)] = None,
) -> AsyncIterator[ServerSentEvent]:
    """``order.created`` and ``order.cancelled`` events of my orders (staff: all), in order.
    Reconnect with ``Last-Event-ID`` to receive what was missed (the stream ends, asking
    the client to come back, when the broadcast is down or the client fell behind)."""
    bus: EventBus = request.app.state.events
    try:
        async with bus.subscribe(after=last_event_id) as stream:
            async for event in stream:
                if principal.is_staff or event.user_id == principal.id:
                    yield ServerSentEvent(data=event.data, event=event.type, id=str(event.id))
    except BroadcastError as exc:
        yield ServerSentEvent(comment=f"interrupted ({type(exc).__name__})", retry=1000)


@router.get(
    "/{order_id}",
    response_model=OrderOut,
    responses={404: {"description": "Order not found"}},
    summary="Get an order",
)
async def get_order(order_id: Id, user: CurrentUser, db: Db) -> Order:
    return await _visible_order(db, order_id, user.id, user.role)


@router.post(
    "/{order_id}/cancel",
    response_model=OrderOut,
    responses={404: {"description": "Order not found"}, 409: {"description": "Not placed"}},
    summary="Cancel an order (stock goes back)",
)
async def cancel_order(order_id: Id, user: CurrentUser, db: Db, request: Request) -> Order:
    order = await _visible_order(db, order_id, user.id, user.role)
    cancelled = await db.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == "placed")
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    if cancelled.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        await db.refresh(order)
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"Order is already {order.status}")
    for product_id, quantity in [(item.product_id, item.quantity) for item in order.items]:
        restored = await db.execute(
            update(Product)
            .where(Product.id == product_id, Product.stock <= INT32_MAX - quantity)
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )
        if restored.rowcount != 1:  # type: ignore[attr-defined]  # it would overflow the column
            await db.rollback()
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"The stock of product {product_id} cannot take its items back",
            )
    await db.commit()
    set_committed_value(order, "status", "cancelled")
    events: EventBus = request.app.state.events
    await events.publish("order.cancelled", order.id, order.user_id, _event_data(order))
    return order


@chat_router.websocket("/{order_id}/chat")
async def order_chat(
    websocket: WebSocket,
    order_id: Id,
    token: Annotated[str, Query()] = "",
) -> None:
    """A chat room per order for its customer and the staff: every message goes to all."""
    state = websocket.app.state
    try:
        principal = await load_principal(state, token)
    except HTTPException:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="Not authenticated")
        return
    async with state.sessionmaker() as session:
        order = await session.get(Order, order_id)
        allowed = order is not None and (order.user_id == principal.id or principal.is_staff)
    if not allowed:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="Order not found")
        return
    rooms: ChatRooms = state.chat
    await websocket.accept()
    try:
        async with (
            rooms.join(order_id, principal.username) as room,
            anyio.create_task_group() as group,
        ):
            group.start_soon(_relay, room, websocket, group.cancel_scope)
            try:
                while True:
                    text = await websocket.receive_text()
                    message = {"type": "message", "user": principal.username, "text": text}
                    await rooms.say(order_id, message)
            except WebSocketDisconnect:
                pass  # the client left
            group.cancel_scope.cancel()
    except* BroadcastError:  # the broadcast is down: the client should come back later
        with suppress(Exception):
            await websocket.close(code=status.WS_1013_TRY_AGAIN_LATER)


async def _relay(room: Subscription, websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """The room's messages to this member; a broken room or socket ends the chat."""
    try:
        async for message in room:
            await websocket.send_text(message.text)
    except BroadcastError:  # lost the broadcast, or fell too far behind: reconnect
        with suppress(Exception):
            await websocket.close(code=status.WS_1012_SERVICE_RESTART)
    except Exception:  # a closed socket: the receiving side sees it too
        pass
    scope.cancel()
