"""catalog: an API of the shapes real services have, for the ``openapi`` scenario's tests.

Fifteen operations: path parameters (an integer id, a UUID, two in one path), query
parameters with patterns, enums, bounds and dates (some required), a declared header and
cookie, nested JSON bodies with enums, constrained numbers and arrays, and writes.  Its ids
start at 1001 (items) and 9001 (reviews), out of the range the scenario generates for an
unconstrained integer, so that a 2xx on ``GET /items/{item_id}`` shows that the id came
from an answer of ``GET /items``, not from chance.  Nothing here blocks the event loop.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from enum import StrEnum
from typing import Annotated

from fastapi import Cookie, FastAPI, Header, HTTPException, Query, Response
from pydantic import BaseModel, Field

app = FastAPI(title="catalog")


class Category(StrEnum):
    books = "books"
    games = "games"
    tools = "tools"


class Currency(StrEnum):
    EUR = "EUR"
    USD = "USD"
    JPY = "JPY"


class Size(BaseModel):
    width_cm: float = Field(gt=0, le=500)
    height_cm: float = Field(gt=0, le=500)


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    category: Category
    price: float = Field(gt=0, lt=10_000)
    tags: list[str] = Field(default_factory=list, max_length=5)
    size: Size | None = None


class Item(ItemIn):
    id: int


class Review(BaseModel):
    id: int
    item_id: int
    stars: int = Field(ge=1, le=5)


class User(BaseModel):
    user_id: uuid.UUID
    name: str


class OrderLine(BaseModel):
    item_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=10)


class Shipping(BaseModel):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    express: bool = False


class OrderIn(BaseModel):
    lines: list[OrderLine] = Field(min_length=1, max_length=5)
    shipping: Shipping
    coupon: str | None = Field(default=None, pattern=r"^[A-Z0-9]{6}$")


ITEMS: dict[int, Item] = {
    1001 + i: Item(
        id=1001 + i,
        name=f"item {i}",
        category=list(Category)[i % 3],
        price=5.0 + i,
        tags=["new"] if i % 2 else [],
        size=Size(width_cm=10, height_cm=20),
    )  # fmt: skip
    for i in range(30)
}
REVIEWS: dict[int, dict[int, Review]] = {
    item_id: {
        9001 + 10 * i + k: Review(id=9001 + 10 * i + k, item_id=item_id, stars=k + 1)
        for k in range(3)
    }  # fmt: skip
    for i, item_id in enumerate(ITEMS)
}
USERS = {
    user.user_id: user
    for user in (
        User(user_id=uuid.uuid5(uuid.NAMESPACE_DNS, f"u{i}"), name=f"u{i}") for i in range(10)
    )  # fmt: skip
}
_next_id = itertools.count(5001)


def _item(item_id: int) -> Item:
    if item_id not in ITEMS:
        raise HTTPException(404, f"no item {item_id}")
    return ITEMS[item_id]


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items")
async def list_items(
    category: Category | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    q: Annotated[str | None, Query(pattern=r"^[a-z ]{0,10}$")] = None,
) -> list[Item]:
    found = [i for i in ITEMS.values() if category is None or i.category == category]
    return [i for i in found if q is None or q.strip() in i.name][:limit]


@app.get("/items/{item_id}")
async def get_item(item_id: int) -> Item:
    return _item(item_id)


@app.get("/items/{item_id}/reviews")
async def list_reviews(item_id: int) -> list[Review]:
    _item(item_id)
    return list(REVIEWS.get(item_id, {}).values())


@app.get("/items/{item_id}/reviews/{review_id}")
async def get_review(item_id: int, review_id: int) -> Review:
    review = REVIEWS.get(item_id, {}).get(review_id)
    if review is None:
        raise HTTPException(404, f"item {item_id} has no review {review_id}")
    return review


@app.get("/items/{item_id}/price")
async def get_price(item_id: int, currency: Currency) -> dict[str, float | str]:
    rate = {Currency.EUR: 1.0, Currency.USD: 1.1, Currency.JPY: 160.0}[currency]
    return {"currency": currency.value, "price": round(_item(item_id).price * rate, 2)}


@app.get("/search")
async def search(
    sku: Annotated[str, Query(pattern=r"^[A-Z]{3}-\d{4}$")],
    page: Annotated[int, Query(ge=1, le=100)] = 1,
) -> dict[str, object]:
    return {"sku": sku, "page": page, "results": []}


@app.get("/sales")
async def sales(since: dt.date, until: dt.date | None = None) -> dict[str, object]:
    end = until or dt.date(2036, 1, 1)
    return {"since": since.isoformat(), "days": max(0, (end - since).days)}


@app.get("/users")
async def list_users() -> list[User]:
    return list(USERS.values())


@app.get("/users/{user_id}")
async def get_user(user_id: uuid.UUID) -> User:
    if user_id not in USERS:
        raise HTTPException(404, f"no user {user_id}")
    return USERS[user_id]


@app.get("/preferences")
async def preferences(
    x_tenant: Annotated[str, Header(pattern=r"^[a-z]{3,8}$")],
    theme: Annotated[str | None, Cookie()] = None,
) -> dict[str, str | None]:
    return {"tenant": x_tenant, "theme": theme}


@app.post("/items", status_code=201)
async def create_item(item: ItemIn) -> Item:
    created = Item(id=next(_next_id), **item.model_dump())
    ITEMS[created.id] = created
    return created


@app.put("/items/{item_id}")
async def replace_item(item_id: int, item: ItemIn) -> Item:
    _item(item_id)
    ITEMS[item_id] = Item(id=item_id, **item.model_dump())
    return ITEMS[item_id]


@app.delete("/items/{item_id}", status_code=204)
async def delete_item(item_id: int) -> Response:
    _item(item_id)
    if len(ITEMS) > 10:  # keep some: the GETs of a run with --methods all still find items
        del ITEMS[item_id]
    return Response(status_code=204)


@app.post("/orders", status_code=201)
async def create_order(order: OrderIn) -> dict[str, object]:
    total = sum(line.quantity for line in order.lines)
    return {"id": next(_next_id), "items": total, "country": order.shipping.country}
