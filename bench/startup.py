"""Startup cost: declare 500 routes (path, body, query params) and build the OpenAPI document.

python bench/startup.py hasten|fastapi
"""

import importlib
import sys
import time
from typing import Annotated, Any

from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float


def main() -> None:
    fw: Any = importlib.import_module(sys.argv[1])
    start = time.perf_counter()
    app = fw.FastAPI()
    for index in range(500):

        def endpoint(
            item_id: int,
            item: Item,
            q: str | None = None,
            limit: Annotated[int, fw.Query(ge=1)] = 10,
        ) -> Item:
            return item

        app.post(f"/r{index}/items/{{item_id}}", name=f"r{index}")(endpoint)
    declared = time.perf_counter()
    app.openapi()
    done = time.perf_counter()
    print(
        f"{sys.argv[1]:8} 500 routes declared in {declared - start:.2f} s,"
        f" OpenAPI document in {done - declared:.2f} s"
    )


if __name__ == "__main__":
    main()
