from __future__ import annotations

from fastapi import APIRouter, FastAPI
from lagscope.harness.probe.routes import endpoint_names
from starlette.middleware.gzip import GZipMiddleware


def test_endpoints_are_named_by_method_and_path_template() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/api")

    @app.get("/orders/{order_id}")
    async def get_order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    @router.post("/orders")
    def create_order() -> dict[str, str]:
        return {}

    app.include_router(router, prefix="/v1")
    names = endpoint_names(app)
    assert names[get_order.__code__] == "GET /orders/{order_id}"
    assert names[create_order.__code__] == "POST /v1/api/orders"


def test_routes_are_found_through_middleware_wrappers() -> None:
    app = FastAPI()

    @app.get("/health")
    async def health() -> str:
        return "ok"

    wrapped = GZipMiddleware(app)
    assert endpoint_names(wrapped)[health.__code__] == "GET /health"
