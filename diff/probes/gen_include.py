"""Generated probes: route options merged through nested routers and inclusions.

Id ``gen_include.iNN``. A ``random.Random`` seeded with the id builds a chain app -> outer
router -> inner router (each ``include_router`` call and each ``APIRouter`` with its own
options drawn from ``OPTIONS``: prefix, tags, dependencies, responses, deprecated,
include_in_schema, default_response_class, response_class on routes, callbacks,
generate_unique_id_function, redirect_slashes), declares routes on every level (some after
the inclusion), and compares the answers and the OpenAPI document.
"""

import random
import zlib

from probelib import get, post, probe_source

_HEADER = """from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute


def need_token(x_token: Annotated[str, Header()] = "") -> None:
    if x_token == "bad":
        raise HTTPException(status_code=401, detail="bad token")


def mark(request: Request) -> None:
    request.state.marks = getattr(request.state, "marks", 0) + 1


def uid_outer(route: APIRoute) -> str:
    return f"outer-{route.name}"


def uid_inner(route: APIRoute) -> str:
    return f"inner-{route.name}"


def uid_app(route: APIRoute) -> str:
    return f"app-{route.name}"


callbacks = APIRouter()


@callbacks.post("{$callback_url}/cb")
def cb() -> None:  # pragma: no cover
    pass

"""

# (keyword source, applies to) -- "router": APIRouter(...), "include": include_router(...)
OPTIONS = [
    ("tags=['{level}']", "both"),
    ("dependencies=[Depends(mark)]", "both"),
    ("dependencies=[Depends(need_token)]", "both"),
    ("responses={{404: {{'description': '{level} missing'}}}}", "both"),
    ("deprecated=True", "both"),
    ("include_in_schema=False", "both"),
    ("default_response_class=PlainTextResponse", "both"),
    ("default_response_class=HTMLResponse", "both"),
    ("callbacks=callbacks.routes", "both"),
    ("generate_unique_id_function=uid_{level}", "both"),
    ("redirect_slashes=False", "router"),
]


def _opts(rng: random.Random, level: str, where: str, prefixes: list[str]) -> str:
    """Keyword arguments for APIRouter()/FastAPI() (where="router") or include_router();
    the prefix chosen (maybe none) is appended to ``prefixes``."""
    picked: list[str] = []
    for option, applies in OPTIONS:
        keyword = option.split("=")[0]
        if level == "app" and keyword == "tags":  # FastAPI() has no tags= (misc probe)
            continue
        if applies in ("both", where) and rng.random() < 0.25:
            if not any(p.startswith(keyword + "=") for p in picked):  # one value per keyword
                picked.append(option)
    prefix = ""
    if where == "include" and rng.random() < 0.5:
        prefix = f"/{level[0]}"
    if where == "router" and level != "app" and rng.random() < 0.5:
        prefix = f"/{level}"
    if prefix:
        picked.insert(0, f"prefix={prefix!r}")
    prefixes.append(prefix)
    return ", ".join(p.format(level=level) for p in picked)


def _route(target: str, name: str, rng: random.Random, paths: list[str], prefix: str) -> str:
    """One GET route; its full path (with the prefixes), the slash variant and, for a path
    parameter, a malformed value are added to ``paths``."""
    path = rng.choice(["/items", "/items/", "/items/{n}", "/"])
    extra = rng.choice(
        ["", ", response_class=JSONResponse", ", tags=['route']", ", status_code=201"]
    )
    full = prefix + path.replace("{n}", "3")
    paths += [full or "/", full.rstrip("/") if full.endswith("/") else full + "/"]
    if "{n}" in path:
        paths.append(prefix + "/items/x")
        args, value = "n: int", f"'{name} n=' + str(n)"
    else:
        args = "request: Request"
        value = f"'{name} marks=' + str(getattr(request.state, 'marks', 0))"
    return f"@{target}.get({path!r}{extra})\ndef {name}({args}) -> str:\n    return {value}\n"


def _include(parent: str, child: str, opts: str) -> str:
    return f"{parent}.include_router({child}{', ' + opts if opts else ''})"


def _source(rng: random.Random) -> tuple[str, list[str]]:
    """The app source and the paths to request."""
    px: list[str] = []
    paths: list[str] = []
    parts = [_HEADER]
    parts.append(f"app = FastAPI({_opts(rng, 'app', 'router', px)})")
    parts.append(f"outer = APIRouter({_opts(rng, 'outer', 'router', px)})")
    parts.append(f"inner = APIRouter({_opts(rng, 'inner', 'router', px)})")
    inner_include = _opts(rng, "inner", "include", px)
    outer_include = _opts(rng, "outer", "include", px)
    _, outer_px, inner_px, inner_inc_px, outer_inc_px = px
    inner_full = outer_inc_px + outer_px + inner_inc_px + inner_px
    parts.append(_route("inner", "inner_early", rng, paths, inner_full))
    late_inner = rng.random() < 0.5
    parts.append(_include("outer", "inner", inner_include))
    parts.append(_route("outer", "outer_route", rng, paths, outer_inc_px + outer_px))
    parts.append(_include("app", "outer", outer_include))
    if late_inner:
        parts.append(_route("inner", "inner_late", rng, paths, inner_full))
    parts.append(_route("app", "app_route", rng, paths, ""))
    return "\n\n".join(parts) + "\n", list(dict.fromkeys(paths))


def _register() -> None:
    for i in range(20):
        pid = f"gen_include.i{i:02d}"
        rng = random.Random(zlib.crc32(pid.encode()))
        src, paths = _source(rng)
        steps = [get(p, follow_redirects=False) for p in paths]
        steps += [get(p, headers={"x-token": "bad"}) for p in paths[:4:2]]
        steps += [post(paths[0]), get("/nowhere")]
        probe_source(pid, src, *steps, description="nested routers with merged options")


_register()
