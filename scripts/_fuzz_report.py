"""Helpers of scripts/fuzz: wait for the server, log in, summarise a schemathesis NDJSON report.

python scripts/_fuzz_report.py wait URL                 exit 0 once URL answers 200
python scripts/_fuzz_report.py token BASE USER PASSWORD print a bearer token
python scripts/_fuzz_report.py summary FILE LABEL       figures of one run (exit 1 on 5xx or failures)
python scripts/_fuzz_report.py pg-create|pg-drop URL SCHEMA
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

import httpx


def wait(url: str) -> int:
    try:
        return 0 if httpx.get(url, timeout=1).status_code == 200 else 1
    except httpx.HTTPError:
        return 1


def token(base: str, username: str, password: str) -> int:
    response = httpx.post(
        f"{base}/auth/token", data={"username": username, "password": password}, timeout=30
    )
    response.raise_for_status()
    print(response.json()["access_token"])
    return 0


def summary(path: str, label: str) -> int:
    """Operations, cases (requests answered), statuses and check failures of one run.

    Reads the NDJSON events of ``schemathesis run --report ndjson``: each ``ScenarioFinished``
    event's recorder holds the operation's label, its interactions (request and response per
    case) and the checks run on each case.
    """
    operations: set[str] = set()
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    examples: dict[str, str] = {}
    with open(path, encoding="utf-8") as events:
        for line in events:
            finished = json.loads(line).get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished.get("recorder") or {}
            operation = recorder.get("label", "?")
            operations.add(operation)
            for interaction in (recorder.get("interactions") or {}).values():
                response = interaction.get("response") or {}
                if isinstance(response.get("status_code"), int):
                    statuses[response["status_code"]] += 1
            for results in (recorder.get("checks") or {}).values():
                for result in results:
                    if result.get("status") != "failure":
                        continue
                    failure = (result.get("failure_info") or {}).get("failure") or {}
                    key = f"{result.get('name')}: {failure.get('title', '?')}"
                    failures[key] += 1
                    message = " ".join(str(failure.get("message", "")).split())
                    examples.setdefault(key, f"{operation}: {message[:160]}")
    cases = sum(statuses.values())
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    print(f"fuzz ({label}): {len(operations)} operations, {cases} cases, {server_errors} 5xx")
    print(f"fuzz ({label}): statuses {dict(sorted(statuses.items()))}")
    print(f"fuzz ({label}): check failures {dict(failures) or 0}")
    for key, example in examples.items():
        print(f"fuzz ({label}):   e.g. {key} -- {example}")
    return 1 if server_errors or failures else 0


async def _pg(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "wait":
        return wait(*args)
    if command == "token":
        return token(*args)
    if command == "summary":
        return summary(*args)
    if command == "pg-create":
        asyncio.run(_pg(args[0], f'CREATE SCHEMA "{args[1]}"'))
        return 0
    if command == "pg-drop":
        asyncio.run(_pg(args[0], f'DROP SCHEMA "{args[1]}" CASCADE'))
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
