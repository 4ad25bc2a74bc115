"""The ``shop`` service: catalogue, orders and a payments call to a downstream API.

Run it under lagscope (``lagscope run --app shop``) or alone:
``SHOP_DOWNSTREAM_URL=http://127.0.0.1:8001 uvicorn target_apps.shop.app:app``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from target_apps.shop import faults
from target_apps.shop.catalogue import PRODUCTS, Product
from target_apps.shop.faults import blocking_io

DOWNSTREAM_URL = os.environ.get("SHOP_DOWNSTREAM_URL", "http://127.0.0.1:8001")


class OrderIn(BaseModel):
    product_id: int
    quantity: int = 1


class Order(BaseModel):
    id: str
    product_id: int
    quantity: int
    amount_cents: int
    charge_id: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with httpx.AsyncClient(base_url=DOWNSTREAM_URL, timeout=10.0) as client:
        app.state.payments = client
        yield


app = FastAPI(title="shop", lifespan=lifespan)
ORDERS: dict[str, Order] = {}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/products")
async def list_products(limit: int = 20) -> list[Product]:
    return list(PRODUCTS.values())[:limit]


@app.get("/products/{product_id}")
async def get_product(product_id: int) -> Product:
    product = PRODUCTS.get(product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="no such product")
    return product


async def _charge(order_id: str, amount_cents: int) -> dict[str, Any]:
    if faults.is_on("blocking_io"):
        return await blocking_io.charge_broken(DOWNSTREAM_URL, order_id, amount_cents)
    return await blocking_io.charge_fixed(app.state.payments, order_id, amount_cents)


@app.post("/orders", status_code=201)
async def create_order(body: OrderIn) -> Order:
    product = PRODUCTS.get(body.product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="no such product")
    order_id = uuid.uuid4().hex
    amount = product.price_cents * body.quantity
    charge = await _charge(order_id, amount)
    order = Order(
        id=order_id,
        product_id=product.id,
        quantity=body.quantity,
        amount_cents=amount,
        charge_id=charge["charge_id"],
    )
    ORDERS[order_id] = order
    return order


@app.get("/orders/{order_id}")
async def get_order(order_id: str) -> Order:
    order = ORDERS.get(order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="no such order")
    return order
