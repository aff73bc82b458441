"""Generated probes: dependency graphs, with ``app.dependency_overrides`` set and cleared.

Id ``gen_deps.dNN``. A ``random.Random`` seeded with the id builds a graph of 3 to 5
dependencies ``d0..dN`` (each ``def``, ``async def``, generator or async generator; each
depending on up to two earlier ones, sometimes with ``use_cache=False``; some read a query
parameter or a header) and an endpoint using 2 or 3 of them, one possibly twice, plus a
router-level dependency. Every dependency appends to a per-request call log that the
endpoint returns, so call counts and order are compared. Steps: requests, then overrides of
one or two dependencies (``app.dependency_overrides[d] = o``), requests, an override whose
replacement has its own parameters, ``dependency_overrides.clear()``, requests.
"""

import random
import zlib
from typing import Any

from probelib import do, get, probe_source

KINDS = ["def", "async", "gen", "agen"]


def _dep_src(i: int, kind: str, subs: list[tuple[int, bool]], param: str | None) -> str:
    args = [
        f"s{j}: Annotated[str, Depends(d{j}{'' if cache else ', use_cache=False'})]"
        for j, cache in subs
    ]
    args.insert(0, "request: Request")
    if param == "query":
        args.append(f"q{i}: int = 0")
    elif param == "header":
        args.append(f"x_h{i}: Annotated[str, Header()] = 'none'")
    value = f"'d{i}(' + ','.join([{', '.join(f's{j}' for j, _ in subs)}]) + ')'"
    if param == "query":
        value += f" + str(q{i})"
    elif param == "header":
        value += f" + x_h{i}"
    head = {"def": "def", "async": "async def", "gen": "def", "agen": "async def"}[kind]
    body = [f"    log(request, 'd{i}')", f"    value = {value}"]
    if kind in ("gen", "agen"):
        body += ["    yield value", f"    log(request, 'exit d{i}')"]
    else:
        body += ["    return value"]
    return f"{head} d{i}({', '.join(args)}):\n" + "\n".join(body) + "\n"


_HEADER = """from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request


def log(request: Request, what: str) -> None:
    request.state.calls = getattr(request.state, "calls", []) + [what]


def o_plain(request: Request) -> str:
    log(request, "o_plain")
    return "o_plain"


async def o_async(request: Request, oq: int = 1) -> str:
    log(request, "o_async")
    return f"o_async{oq}"


def o_gen(request: Request):
    log(request, "o_gen")
    yield "o_gen"
    log(request, "exit o_gen")


def o_params(request: Request, oh: Annotated[str, Header()] = "h", need: int = 0) -> str:
    log(request, "o_params")
    return f"o_params{oh}{need}"

"""


def _set(dep: str, override: str) -> Any:
    def fn(app: Any) -> str:
        app.dependency_overrides[app.state.ns[dep]] = app.state.ns[override]
        return f"{dep} -> {override}"

    fn.__name__ = f"override {dep} with {override}"
    return fn


def _clear(app: Any) -> int:
    app.dependency_overrides.clear()
    return len(app.dependency_overrides)


def _register() -> None:
    for i in range(16):
        pid = f"gen_deps.d{i:02d}"
        rng = random.Random(zlib.crc32(pid.encode()))
        n = rng.randint(3, 5)
        parts = [_HEADER]
        for k in range(n):
            subs = []
            if k:
                for j in rng.sample(range(k), min(k, rng.randint(0, 2))):
                    subs.append((j, rng.random() > 0.3))
            param = rng.choice([None, None, "query", "header"])
            parts.append(_dep_src(k, KINDS[(i + k) % 4], subs, param))
        used = rng.sample(range(n), min(n, rng.randint(2, 3)))
        twice = rng.choice(used)
        args = ["request: Request"] + [f"e{j}: Annotated[str, Depends(d{j})]" for j in used]
        args.append(f"again: Annotated[str, Depends(d{twice}, use_cache={rng.random() < 0.5})]")
        router_dep = rng.randrange(n)
        is_async = rng.random() < 0.5
        values = ", ".join(f"'e{j}': e{j}" for j in used)
        parts.append(
            f"app = FastAPI()\n"
            f"router = APIRouter(dependencies=[Depends(d{router_dep})])\n\n\n"
            f"@router.get('/')\n"
            f"{'async def' if is_async else 'def'} endpoint({', '.join(args)}):\n"
            f"    return {{{values}, 'again': again, 'calls': list(request.state.calls)}}\n\n\n"
            f"app.include_router(router)\n"
            f"app.state.ns = globals()\n"
        )
        src = "\n\n".join(parts)
        sweep = [
            get("/"),
            get("/?q0=1&q1=2&q2=3&q3=4&q4=5"),
            get("/", headers={"x-h0": "A", "x-h1": "B", "x-h2": "C", "x-h3": "D"}),
            get("/?q0=x&q1=y&q2=z&q3=w&q4=v"),
        ]
        first = rng.choice(used)
        steps = list(sweep)
        steps.append(do(_set(f"d{first}", rng.choice(["o_plain", "o_async", "o_gen"]))))
        steps += sweep
        steps.append(do(_set(f"d{rng.randrange(n)}", "o_params")))
        steps += sweep + [get("/?need=x", headers={"oh": "Z"}), get("/?need=3&oq=x")]
        steps.append(do(_clear, "dependency_overrides.clear()"))
        steps += sweep
        desc = (
            f"{n} dependencies, endpoint uses {used} (+d{twice} again), router uses d{router_dep}"
        )
        probe_source(pid, src, *steps, description=desc)


_register()
