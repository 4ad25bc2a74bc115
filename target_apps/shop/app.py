"""The ``shop`` service: catalogue and orders in a real database, payments and stock downstream.

Run it under lagscope (``lagscope run --app shop``) or alone:
``SHOP_DOWNSTREAM_URL=http://127.0.0.1:8001 uvicorn lagscope.target_apps.shop.app:app``.
Each seeded fault (``target_apps/shop/faults/``) swaps one piece of the code below
for its broken twin while it is switched on.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from lagscope.target_apps.shop import admin, fault_switch, faults
from lagscope.target_apps.shop.catalogue import SEED_PRODUCTS, Product
from lagscope.target_apps.shop.db import Database, OrderRow, ProductRow, create_schema, make_engine
from lagscope.target_apps.shop.faults import (
    blocking_io,
    connection_leak,
    cpu_bound,
    gc_pressure,
    log_flood,
    schema_drift,
    slow_downstream,
    threadpool_starvation,
    unbounded_tasks,
    unhandled_errors,
)
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

DOWNSTREAM_URL = os.environ.get("SHOP_DOWNSTREAM_URL", "http://127.0.0.1:8001")
USERS = {"alice": "wonderland", "bob": "builder"}


class OrderIn(BaseModel):
    product_id: int
    quantity: int = 1
    coupon: str | None = None


class Order(BaseModel):
    id: str
    product_id: int
    quantity: int
    amount_cents: int
    charge_id: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = make_engine()
    await create_schema(engine)
    app.state.db = Database(engine)
    app.state.passwords = {user: cpu_bound.hash_password(pw) for user, pw in USERS.items()}
    app.state.breaker = slow_downstream.CircuitBreaker()
    app.state.relay = unbounded_tasks.Relay()
    app.state.outbox = unbounded_tasks.Outbox(app.state.relay)
    app.state.logging = log_flood.ShopLogging()
    app.state.logging.start()
    try:
        async with (
            fault_switch.following(),  # run-time switches reach this worker too
            httpx.AsyncClient(base_url=DOWNSTREAM_URL, timeout=10.0) as client,
        ):
            app.state.downstream = client
            await _warm_up(app.state.db, client)
            if faults.is_on("gc_pressure"):
                gc_pressure.warm(SEED_PRODUCTS[:20])
            yield
    finally:
        app.state.outbox.stop()
        app.state.logging.stop()
        await connection_leak.release_leaked()
        await engine.dispose()


async def _warm_up(db: Database, client: httpx.AsyncClient) -> None:
    """Pay the one-time costs before serving: lazy imports, ORM query compilation, connections.

    Without this the first requests stall the loop for 100+ ms each.
    """
    async with db.sessions() as session:
        await session.scalars(select(ProductRow).order_by(ProductRow.id).limit(20))
        await session.get(ProductRow, 1)
        await session.get(OrderRow, "warm-up")
    with contextlib.suppress(httpx.HTTPError):  # optional at start; called again per request
        await client.get("/stock/1")


app = FastAPI(title="shop", lifespan=lifespan)
app.include_router(admin.router)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessions = request.app.state.db.sessions
    if faults.is_on("connection_leak"):
        yield await connection_leak.session_broken(sessions)
        return
    async for session in connection_leak.session_fixed(sessions):
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


@app.exception_handler(unhandled_errors.CouponRejected)
async def coupon_rejected(request: Request, exc: Exception) -> JSONResponse:
    return await unhandled_errors.coupon_rejected(request, exc)


@app.exception_handler(slow_downstream.DownstreamUnavailable)
async def downstream_unavailable(request: Request, exc: Exception) -> JSONResponse:
    body = {"title": "Payments unavailable", "status": 503, "detail": str(exc)}
    return JSONResponse(body, status_code=503, headers={"Retry-After": "2"})


@app.exception_handler(Exception)
async def server_error(request: Request, exc: Exception) -> JSONResponse:
    if faults.is_on("unhandled_errors"):
        return await unhandled_errors.server_error_broken(request, exc)
    return await unhandled_errors.server_error_fixed(request, exc)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def _product(row: ProductRow) -> Product:
    return Product(
        id=row.id, name=row.name, price_cents=row.price_cents, description=row.description
    )


@app.get("/products")
async def list_products(request: Request, session: Session, limit: int = 20) -> list[Product]:
    rows = (await session.scalars(select(ProductRow).order_by(ProductRow.id).limit(limit))).all()
    products = [_product(row) for row in rows]
    logs: log_flood.ShopLogging = request.app.state.logging
    payload = [p.model_dump() for p in products]
    if faults.is_on("log_flood"):
        logs.products_broken({"limit": limit}, payload)
    else:
        logs.products_fixed({"limit": limit}, payload)
    if faults.is_on("gc_pressure"):
        gc_pressure.products_broken(payload)
    else:
        gc_pressure.products_fixed(payload)
    return products


@app.get("/products/{product_id}")
async def get_product(product_id: int, session: Session) -> Product:
    row = await session.get(ProductRow, product_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such product")
    return _product(row)


@app.get("/products/{product_id}/stock")
async def get_stock(request: Request, product_id: int) -> dict[str, Any]:
    if faults.is_on("threadpool_starvation"):
        return await threadpool_starvation.stock_broken(DOWNSTREAM_URL, product_id)
    return await threadpool_starvation.stock_fixed(request.app.state.downstream, product_id)


@app.post("/login")
async def login(request: Request, body: schema_drift.Login) -> dict[str, str]:
    name = body.email  # the fixed model accepts `email` and the old `username`
    if faults.is_on("schema_drift"):
        name = schema_drift.login_broken(await request.json()).email
    stored = request.app.state.passwords.get(name)
    verify = cpu_bound.verify_broken if faults.is_on("cpu_bound") else cpu_bound.verify_fixed
    if stored is None or not await verify(body.password, stored):
        raise HTTPException(status_code=401, detail="wrong user name or password")
    return {"token": uuid.uuid4().hex}


async def _charge(request: Request, order_id: str, amount_cents: int) -> dict[str, Any]:
    client: httpx.AsyncClient = request.app.state.downstream
    if faults.is_on("blocking_io"):
        return await blocking_io.charge_broken(DOWNSTREAM_URL, order_id, amount_cents)
    if faults.is_on("slow_downstream"):
        return await slow_downstream.charge_broken(client, order_id, amount_cents)
    breaker = request.app.state.breaker
    return await slow_downstream.charge_fixed(client, breaker, order_id, amount_cents)


@app.post("/orders", status_code=201)
async def create_order(request: Request, body: OrderIn, session: Session) -> Order:
    outbox: unbounded_tasks.Outbox = request.app.state.outbox
    if faults.is_on("unbounded_tasks"):
        order = await _place_order(request, body, session)
        unbounded_tasks.send_receipt_broken(request.app.state.relay, order.id)
        return order
    if not outbox.reserve():  # backpressure before doing any work
        return JSONResponse(  # type: ignore[return-value]
            {"title": "Too busy to send receipts", "status": 503},
            status_code=503,
            headers={"Retry-After": "1"},
        )
    try:
        order = await _place_order(request, body, session)
    except BaseException:
        outbox.release()
        raise
    outbox.put(order.id)
    return order


async def _place_order(request: Request, body: OrderIn, session: AsyncSession) -> Order:
    if faults.is_on("unhandled_errors"):
        percent = unhandled_errors.discount_broken(body.coupon)
    else:
        percent = unhandled_errors.discount_fixed(body.coupon)
    product = await session.get(ProductRow, body.product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="no such product")
    amount = product.price_cents * body.quantity * (100 - percent) // 100
    await session.commit()  # end the read: hold no connection while payments answers
    order_id = uuid.uuid4().hex
    charge = await _charge(request, order_id, amount)
    order = OrderRow(id=order_id, product_id=body.product_id, quantity=body.quantity,
                     amount_cents=amount, charge_id=charge["charge_id"])  # fmt: skip
    session.add(order)
    await session.commit()
    return Order(id=order_id, product_id=order.product_id, quantity=order.quantity,
                 amount_cents=amount, charge_id=order.charge_id)  # fmt: skip


@app.get("/orders/{order_id}")
async def get_order(order_id: str, session: Session) -> Order:
    row = await session.get(OrderRow, order_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such order")
    return Order(id=row.id, product_id=row.product_id, quantity=row.quantity,
                 amount_cents=row.amount_cents, charge_id=row.charge_id)  # fmt: skip
