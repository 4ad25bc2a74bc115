"""The shop's product catalogue: the API model and the seed rows written to the database."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Product(BaseModel):
    id: int
    name: str
    price_cents: int
    description: str = ""


SEED_PRODUCTS: list[dict[str, Any]] = [
    {
        "id": i,
        "name": f"product-{i:03d}",
        "price_cents": 199 + 37 * i,
        "description": f"Product {i}: " + "a fine thing to own. " * 4,
    }
    for i in range(1, 101)
]
