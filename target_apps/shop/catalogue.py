"""The shop's product catalogue: a fixed, seeded list (the DB arrives with the fault catalogue)."""

from __future__ import annotations

from pydantic import BaseModel


class Product(BaseModel):
    id: int
    name: str
    price_cents: int


PRODUCTS: dict[int, Product] = {
    i: Product(id=i, name=f"product-{i:03d}", price_cents=199 + 37 * i) for i in range(1, 101)
}
