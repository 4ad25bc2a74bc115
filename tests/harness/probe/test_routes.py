from __future__ import annotations

from fastapi import APIRouter, FastAPI
from lagscope.harness.probe.routes import endpoint_names, route_for
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


def test_a_raw_path_is_matched_to_its_endpoint_as_the_router_will() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/api")

    @router.get("/orders/latest")
    async def latest() -> dict[str, str]:
        return {}

    @router.api_route("/orders/{order_id:int}", methods=["GET", "PUT"])
    async def order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    app.include_router(router, prefix="/v1")
    names = endpoint_names(app).values()
    assert route_for("GET", "/v1/api/orders/latest", names) == "/v1/api/orders/latest"
    assert route_for("PUT", "/v1/api/orders/17", names) == "/v1/api/orders/{order_id:int}"
    assert route_for("GET", "/v1/api/orders/seven", names) is None  # the int convertor
    assert route_for("DELETE", "/v1/api/orders/17", names) is None
    assert route_for("GET", "/elsewhere", names) is None
