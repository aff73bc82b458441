"""The malformed-input corpus: cases generated in code, one table per way of sending them.

``HTTP_CASES`` are requests an HTTP client can make (sent in-process with httpx to the probe
app and to the shop); ``RAW_CASES`` are bytes only a raw socket sends (sent to a real server).
Each case says which statuses are a correct answer; a 4xx from the app must have FastAPI's
error shape (a JSON object with ``detail``).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

CLIENT_ERRORS = frozenset(range(400, 500))
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class HttpCase:
    id: str
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    ok: frozenset[int] = CLIENT_ERRORS  # the statuses that are a correct answer


@dataclass(frozen=True)
class RawCase:
    id: str
    data: bytes
    ok: frozenset[int] = CLIENT_ERRORS
    may_close: bool = True  # closing without an answer is a correct refusal too
    answers: int = 1  # responses expected (pipelining)
    slow: bool = False  # sent a byte at a time: waits for the server's head timeout


def _statuses(*codes: int) -> frozenset[int]:
    return frozenset(codes)


# -- JSON bodies --------------------------------------------------------------------------------

VALID_ITEM = {"name": "cup", "price": 4.5, "tags": ["a", "b"], "count": 3}
VALID = json.dumps(VALID_ITEM).encode()

BROKEN_JSON = [
    b"{",
    b"}",
    b"[",
    b'{"name": }',
    b'{name: "cup"}',
    b"{'name': 'cup'}",
    b'{"name": "cup",}',
    b'{"name": "cup" "price": 1}',
    b'{"name": "cup", "price": 1} trailing',
    b'{"a": 1}{"b": 2}',
    b'{"name": "cup" // comment\n}',
    b'{"name": "cup" /* c */}',
    b'{"price": 01}',
    b'{"price": .5}',
    b'{"price": 1.}',
    b'{"price": +1}',
    b'{"price": 0x10}',
    b'{"price": 1e}',
    b'{"price": --1}',
    b'{"name": "\x00"}',
    b'{"name": "line\nbreak"}',
    b'{"name": "\\u"}',
    b'{"name": "\\uZZZZ"}',
    b'{"name": "\\x41"}',
    b'{"name": "unterminated}',
    b"   ",
    b"\t\r\n",
    b"nul",
    b"tru",
    b"[1, 2,]",
    b"[,]",
    b'{"":}',
    b'{"name": undefined}',
    b'{"name": "cup", "price": 1, "tags": [}',
    b"{\"name\": 'cup'}",
    b"\x00\x00\x00",
    b'"just a string"',
    b"null",
    b"[]",
    b"0",
    b"true",
    b"{}",
]

NON_FINITE = [
    b'{"name": "cup", "price": NaN}',
    b'{"name": "cup", "price": Infinity}',
    b'{"name": "cup", "price": -Infinity}',
    b'{"name": "cup", "price": 1e400}',
    b'{"name": "cup", "price": -1e400}',
    b'{"name": "cup", "price": 1, "count": NaN}',
    b'{"name": "\\ud800", "price": 1}',
    b'{"name": "\\udfff\\ud800", "price": 1}',
    b'{"name": "cup", "price": 1, "tags": ["\\ud83d"]}',
    b'{"\\ud800": 1}',
    b"[NaN, Infinity, -Infinity]",
    b'{"name": "cup", "price": [NaN]}',
]

BAD_UTF8 = [
    b"\xff",
    b"\xfe\xff",
    b"\x80",
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe2\x82",
    b"\xe9",
    b"\xf0\x9f\x98",
    b"\xc3",
    b"\xf8\x88\x80\x80\x80",
]


def _with_raw_name(raw: bytes) -> bytes:
    return b'{"name": "cup' + raw + b'", "price": 1}'


def _nested(depth: int, open_: bytes, close: bytes) -> bytes:
    return open_ * depth + close * depth


def _nested_object(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


NESTING_DEPTHS = [10, 100, 500, 1000, 5000, 100_000]

HUGE_NUMBERS = [
    b'{"name": "cup", "price": 1e308}',
    b'{"name": "cup", "price": 1.7976931348623157e309}',
    b'{"name": "cup", "price": 1' + b"0" * 400 + b"}",
    b'{"name": "cup", "price": 1' + b"0" * 5000 + b"}",
    b'{"name": "cup", "price": 1' + b"0" * 100_000 + b"}",
    b'{"name": "cup", "price": 0.' + b"0" * 500 + b"1}",
    b'{"name": "cup", "price": 1e-400}',
    b'{"name": "cup", "price": 1, "count": 9223372036854775808}',
    b'{"name": "cup", "price": 1, "count": -9223372036854775809}',
    b'{"name": "cup", "price": 1, "count": 2147483648}',
    b'{"name": "cup", "price": 1, "count": 1' + b"0" * 5000 + b"}",
    b'{"name": "cup", "price": 1, "count": 1e2}',
    b'{"name": "cup", "price": 1, "count": 1.5}',
    b'{"name": "cup", "price": 1, "count": -1}',
    b'{"name": "cup", "price": 1, "count": 1e400}',
    b'{"name": "cup", "price": -0.0}',
    b'{"name": "cup", "price": 1E+2}',
    b'{"name": "cup", "price": 123456789012345678901234567890.5}',
]

DUPLICATE_KEYS = [
    b'{"name": "a", "name": "b", "price": 1}',
    b'{"name": "a", "price": 1, "price": -1}',
    b'{"name": "a", "price": -1, "price": 1}',
    b'{"name": "a", "price": 1, "tags": [], "tags": "x"}',
    b'{"name": "a", "price": 1, "count": 1, "count": 2, "count": "x"}',
    b'{"name": "a", "price": 1' + b', "price": 1' * 10_000 + b"}",
]

WRONG_TYPES = [
    {"name": 1, "price": 1},
    {"name": [], "price": 1},
    {"name": {}, "price": 1},
    {"name": None, "price": 1},
    {"name": True, "price": 1},
    {"name": "cup", "price": "x"},
    {"name": "cup", "price": []},
    {"name": "cup", "price": {}},
    {"name": "cup", "price": True},
    {"name": "cup", "price": "1e400"},
    {"name": "cup", "price": "nan"},
    {"name": "cup", "price": -1},
    {"name": "cup", "price": 1, "tags": "a"},
    {"name": "cup", "price": 1, "tags": {}},
    {"name": "cup", "price": 1, "tags": [1]},
    {"name": "cup", "price": 1, "tags": [None]},
    {"name": "cup", "price": 1, "count": "x"},
    {"name": "cup", "price": 1, "count": 2**40},
    {"name": "x" * 101, "price": 1},
    {"name": "x" * 1_000_000, "price": 1},
    {"price": 1},
    {"name": "cup"},
    [VALID_ITEM],
    {"item": VALID_ITEM},
]

CONTENT_TYPES = [
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/json; charset=latin-1",
    "application/jsonx",
    "application/vnd.api+json",
    "",
    "application/json, text/plain",
    "application/octet-stream",
    "image/png",
    "*/*",
    "application/json; boundary=x; charset=utf-8; q=0.1",
    "APPLICATION/JSON",
    "application/ json",
    "json",
]


def json_bodies() -> list[tuple[str, bytes, dict[str, str], frozenset[int]]]:
    """``(id, body, headers, ok)`` for one JSON endpoint taking ``VALID_ITEM``'s model.

    ``ok`` is the client errors, plus the success status where the input is, after all,
    acceptable (a duplicate key whose last value is valid, a number in range, a content type
    that the framework reads as JSON).
    """
    out: list[tuple[str, bytes, dict[str, str], frozenset[int]]] = []
    accept = CLIENT_ERRORS | {200, 201}
    for n in range(len(VALID)):
        out.append((f"truncated-{n}", VALID[:n], JSON, CLIENT_ERRORS))
    out += [(f"broken-{n}", body, JSON, CLIENT_ERRORS) for n, body in enumerate(BROKEN_JSON)]
    out += [(f"non-finite-{n}", body, JSON, accept) for n, body in enumerate(NON_FINITE)]
    out += [
        (f"utf8-{n}", _with_raw_name(raw), JSON, CLIENT_ERRORS) for n, raw in enumerate(BAD_UTF8)
    ]
    out.append(("utf8-bom", b"\xef\xbb\xbf" + VALID, JSON, accept))
    out.append(("utf16", VALID.decode().encode("utf-16"), JSON, accept))
    out.append(("utf32", VALID.decode().encode("utf-32"), JSON, accept))
    for depth in NESTING_DEPTHS:
        out.append((f"nested-arrays-{depth}", _nested(depth, b"[", b"]"), JSON, CLIENT_ERRORS))
        out.append((f"nested-objects-{depth}", _nested_object(depth), JSON, CLIENT_ERRORS))
        tags = b'{"name": "cup", "price": 1, "tags": ' + _nested(depth, b"[", b"]") + b"}"
        out.append((f"nested-field-{depth}", tags, JSON, CLIENT_ERRORS))
    out += [(f"huge-number-{n}", body, JSON, accept) for n, body in enumerate(HUGE_NUMBERS)]
    out += [(f"duplicate-keys-{n}", body, JSON, accept) for n, body in enumerate(DUPLICATE_KEYS)]
    for n, value in enumerate(WRONG_TYPES):
        out.append((f"wrong-type-{n}", json.dumps(value).encode(), JSON, accept))
    for n, kind in enumerate(CONTENT_TYPES):
        headers = {"content-type": kind} if kind else {}
        out.append((f"content-type-{n}-valid", VALID, headers, accept))
        out.append((f"content-type-{n}-broken", b'{"name": ', headers, CLIENT_ERRORS))
    out.append(("no-content-type", VALID, {}, accept))
    out.append(("empty-body", b"", JSON, CLIENT_ERRORS))
    return out


# -- query strings and paths --------------------------------------------------------------------

PATH_IDS = [
    "abc",
    "1.5",
    "1e3",
    "99999999999999999999999",
    "-1",
    "%00",
    "%ff",
    "%zz",
    "%",
    "..",
    "%2e%2e",
    "%2F",
    "%F0%9F%92%A5",
    "a" * 5000,
    "1%0d%0aX-Injected:%20yes",
    "0x10",
    " 1",
    "1 ",
]

QUERIES = [
    "q=" + "a" * 51,
    "q=%ff%fe",
    "q=%00",
    "q=%",
    "q=%zz",
    "q=a&q=b",
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=1e2",
    "limit=",
    "limit=99999999999999999999999",
    "limit=-1",
    "limit=%00",
    "limit=1&limit=2",
    "&&&&",
    "=",
    "q",
    "q=" + "%41" * 2000,
    "q=a%0d%0aSet-Cookie:%20x=y",
]


def query_cases() -> list[HttpCase]:
    ok = CLIENT_ERRORS | {200}
    cases = [
        HttpCase(f"path-{n}", "GET", f"/items/{value}", ok=ok) for n, value in enumerate(PATH_IDS)
    ]
    cases += [
        HttpCase(f"query-{n}", "GET", f"/items/1?{query}", ok=ok) for n, query in enumerate(QUERIES)
    ]
    cases += [
        HttpCase("method-put", "PUT", "/items/1", ok=_statuses(405)),
        HttpCase("method-delete", "DELETE", "/items", ok=_statuses(405)),
        HttpCase("method-patch", "PATCH", "/items", VALID, JSON, ok=_statuses(405)),
        HttpCase("unknown-path", "GET", "/nope", ok=_statuses(404)),
        HttpCase("unknown-deep-path", "GET", "/items/1/2/3", ok=_statuses(404)),
        HttpCase("double-slash", "GET", "//items/1", ok=CLIENT_ERRORS | {200}),
    ]
    return cases


# -- forms and multipart ----------------------------------------------------------------------

BOUNDARY = "XyZ"


def _part(name: str, value: bytes, filename: str | None = None, extra: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode()
        + value
        + b"\r\n"
    )


def _multipart(*parts: bytes, end: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if end else b"")


MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
FILE = _part("file", b"data", "a.txt", "Content-Type: text/plain\r\n")


def form_cases() -> list[HttpCase]:
    ok = CLIENT_ERRORS | {200}
    urlencoded = {"content-type": "application/x-www-form-urlencoded"}
    many_fields = b"&".join(b"f%d=1" % n for n in range(60)) + b"&name=a&count=1"
    cases = [
        HttpCase("form-missing-fields", "POST", "/form", b"", urlencoded),
        HttpCase("form-count-not-int", "POST", "/form", b"name=a&count=x", urlencoded),
        HttpCase("form-bad-percent", "POST", "/form", b"name=%zz&count=1", urlencoded, ok=ok),
        HttpCase("form-bad-utf8", "POST", "/form", b"name=%ff%fe&count=1", urlencoded, ok=ok),
        HttpCase("form-too-many-fields", "POST", "/form", many_fields, urlencoded),
        HttpCase("form-long-name", "POST", "/form", b"name=" + b"a" * 101 + b"&count=1", urlencoded),
        HttpCase("form-as-json", "POST", "/form", b'{"name": "a", "count": 1}', JSON),
        HttpCase("form-nul", "POST", "/form", b"name=a%00b&count=1", urlencoded, ok=ok),
        HttpCase("form-huge-count", "POST", "/form", b"name=a&count=" + b"9" * 5000, urlencoded),
        HttpCase("form-as-multipart-no-boundary", "POST", "/form", b"name=a", {"content-type": "multipart/form-data"}),
        HttpCase("upload-no-boundary", "POST", "/upload", FILE, {"content-type": "multipart/form-data"}),
        HttpCase("upload-wrong-boundary", "POST", "/upload", FILE.replace(b"XyZ", b"AbC"), MULTIPART),
        HttpCase("upload-no-end", "POST", "/upload", _multipart(FILE, end=False), MULTIPART, ok=ok),
        HttpCase("upload-truncated-head", "POST", "/upload", FILE[:30], MULTIPART),
        HttpCase("upload-no-disposition", "POST", "/upload", f"--{BOUNDARY}\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(), MULTIPART),
        HttpCase("upload-no-name", "POST", "/upload", _multipart(FILE.replace(b'name="file"; ', b"")), MULTIPART),
        HttpCase("upload-name-injection", "POST", "/upload", _multipart(_part('file"\r\nX-Evil: 1', b"x", "a.txt")), MULTIPART),
        HttpCase("upload-traversal-filename", "POST", "/upload", _multipart(_part("file", b"x", "../../etc/passwd")), MULTIPART, ok=ok),
        HttpCase("upload-too-many-files", "POST", "/upload", _multipart(*[_part("file", b"x", f"{n}.txt") for n in range(6)]), MULTIPART),
        HttpCase("upload-too-many-fields", "POST", "/upload", _multipart(FILE, *[_part(f"f{n}", b"x") for n in range(60)]), MULTIPART),
        HttpCase("upload-field-too-large", "POST", "/upload", _multipart(FILE, _part("note", b"n" * (1024 * 1024 + 1))), MULTIPART),
        HttpCase("upload-file-as-field", "POST", "/upload", _multipart(_part("file", b"not a file")), MULTIPART),
        HttpCase("upload-missing-file", "POST", "/upload", _multipart(_part("note", b"x")), MULTIPART),
        HttpCase("upload-garbage", "POST", "/upload", bytes(random.Random(7).randrange(256) for _ in range(3000)), MULTIPART),
        HttpCase("upload-header-folding", "POST", "/upload", _multipart(_part("file", b"x", "a.txt", "X-A: b\r\n c\r\n")), MULTIPART, ok=ok),
        HttpCase("upload-nul-name", "POST", "/upload", _multipart(_part("fi\x00le", b"x", "a.txt")), MULTIPART),
        HttpCase("upload-bad-utf8-field", "POST", "/upload", _multipart(FILE, b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n\xff\xfe\r\n"), MULTIPART, ok=ok),
        HttpCase("upload-boundary-too-long", "POST", "/upload", FILE, {"content-type": "multipart/form-data; boundary=" + "b" * 300}),
        HttpCase("upload-urlencoded", "POST", "/upload", b"file=x", {"content-type": "application/x-www-form-urlencoded"}),
        HttpCase("upload-as-json", "POST", "/upload", b'{"file": "x"}', JSON),
    ]  # fmt: skip
    return cases


# -- raw bytes ----------------------------------------------------------------------------------


def _raw(line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


HOST = b"Host: probe"
CLOSE = b"Connection: close"
GET = b"GET /items/1 HTTP/1.1"
ITEM_POST = b"POST /items HTTP/1.1"


def raw_cases() -> list[RawCase]:
    ok200 = CLIENT_ERRORS | {200}
    cases = [
        RawCase("header-bare-cr", _raw(GET, HOST, b"X-A: a\rb", CLOSE)),
        RawCase("header-bare-lf", _raw(GET, HOST, b"X-A: a\nX-B: b", CLOSE), ok=ok200),
        RawCase("header-nul", _raw(GET, HOST, b"X-A: a\x00b", CLOSE)),
        RawCase("header-obs-fold", _raw(GET, HOST, b"X-A: a", b" folded", CLOSE), ok=ok200),
        RawCase("header-name-space", _raw(GET, HOST, b"X A: b", CLOSE)),
        RawCase("header-name-space-before-colon", _raw(GET, HOST, b"X-A : b", CLOSE)),
        RawCase("header-no-colon", _raw(GET, HOST, b"NoColon", CLOSE)),
        RawCase("header-empty-name", _raw(GET, HOST, b": value", CLOSE)),
        RawCase("header-ctl-in-name", _raw(GET, HOST, b"X-\x01A: b", CLOSE)),
        RawCase("header-8bit-value", _raw(GET, HOST, b"X-A: \xff\xfe", CLOSE), ok=ok200),
        RawCase("header-crlf-injection-in-query", _raw(b"GET /items/1?q=a%0d%0aX:%20y HTTP/1.1", HOST, CLOSE), ok=ok200),
        RawCase("no-host", _raw(GET, CLOSE), ok=ok200),
        RawCase("two-hosts", _raw(GET, HOST, b"Host: other", CLOSE), ok=ok200),
        RawCase("cl-and-te", _raw(ITEM_POST, HOST, b"Content-Length: 4", b"Transfer-Encoding: chunked", CLOSE, body=b"0\r\n\r\n")),
        RawCase("two-content-lengths", _raw(ITEM_POST, HOST, b"Content-Length: 4", b"Content-Length: 5", CLOSE, body=b"abcde")),
        RawCase("negative-content-length", _raw(ITEM_POST, HOST, b"Content-Length: -1", CLOSE)),
        RawCase("text-content-length", _raw(ITEM_POST, HOST, b"Content-Length: abc", CLOSE)),
        RawCase("huge-content-length", _raw(ITEM_POST, HOST, b"Content-Type: application/json", b"Content-Length: 999999999999", CLOSE)),
        RawCase("overflow-content-length", _raw(ITEM_POST, HOST, b"Content-Length: 99999999999999999999999999", CLOSE)),
        RawCase("chunk-size-garbage", _raw(ITEM_POST, HOST, b"Transfer-Encoding: chunked", CLOSE, body=b"zz\r\nabc\r\n0\r\n\r\n")),
        RawCase("chunk-size-overflow", _raw(ITEM_POST, HOST, b"Transfer-Encoding: chunked", CLOSE, body=b"ffffffffffffffffffff\r\nabc\r\n")),
        RawCase("chunk-extension", _raw(ITEM_POST, HOST, b"Transfer-Encoding: chunked", b"Content-Type: application/json", CLOSE, body=b"2;x=y\r\n{}\r\n0\r\n\r\n")),
        RawCase("chunked-json-valid", _raw(ITEM_POST, HOST, b"Transfer-Encoding: chunked", b"Content-Type: application/json", CLOSE, body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(VALID), VALID)), ok=_statuses(201)),
        RawCase("chunked-bad-terminator", _raw(ITEM_POST, HOST, b"Transfer-Encoding: chunked", CLOSE, body=b"2\r\n{}XX0\r\n\r\n")),
        RawCase("te-unknown", _raw(ITEM_POST, HOST, b"Transfer-Encoding: gzip", CLOSE)),
        RawCase("te-chunked-twice", _raw(ITEM_POST, HOST, b"Transfer-Encoding: chunked, chunked", CLOSE, body=b"0\r\n\r\n")),
        RawCase("request-line-method-only", b"GET\r\n\r\n"),
        RawCase("request-line-http-9.9", _raw(b"GET /items/1 HTTP/9.9", HOST, CLOSE)),
        RawCase("request-line-extra", _raw(b"GET /items/1 HTTP/1.1 extra", HOST, CLOSE)),
        RawCase("request-line-lowercase-method", _raw(b"get /items/1 HTTP/1.1", HOST, CLOSE)),
        RawCase("request-line-long-method", _raw(b"A" * 5000 + b" /items/1 HTTP/1.1", HOST, CLOSE)),
        RawCase("request-line-absolute-uri", _raw(b"GET http://evil.example/items/1 HTTP/1.1", HOST, CLOSE), ok=ok200),
        RawCase("request-line-asterisk", _raw(b"OPTIONS * HTTP/1.1", HOST, CLOSE), ok=CLIENT_ERRORS | {200}),
        RawCase("request-line-connect", _raw(b"CONNECT evil.example:443 HTTP/1.1", HOST, CLOSE)),
        RawCase("request-line-space-in-url", _raw(b"GET /items/1 2 HTTP/1.1", HOST, CLOSE)),
        RawCase("request-line-ctl-in-url", _raw(b"GET /items/\x01 HTTP/1.1", HOST, CLOSE)),
        RawCase("request-line-fragment", _raw(b"GET /items/1#frag HTTP/1.1", HOST, CLOSE), ok=ok200),
        RawCase("request-line-no-slash", _raw(b"GET items/1 HTTP/1.1", HOST, CLOSE), ok=CLIENT_ERRORS),
        RawCase("request-line-unknown-method", _raw(b"BREW /items/1 HTTP/1.1", HOST, CLOSE)),
        RawCase("http-1.0", _raw(b"GET /items/1 HTTP/1.0"), ok=_statuses(200), may_close=False),
        RawCase("http-1.0-keep-alive", _raw(b"GET /items/1 HTTP/1.0", b"Connection: keep-alive"), ok=_statuses(200), may_close=False),
        RawCase("http-1.0-post", _raw(b"POST /items HTTP/1.0", b"Content-Type: application/json", b"Content-Length: %d" % len(VALID), body=VALID), ok=_statuses(201), may_close=False),
        RawCase("http-1.0-bad-json", _raw(b"POST /items HTTP/1.0", b"Content-Type: application/json", b"Content-Length: 3", body=b"{{{"), ok=_statuses(422), may_close=False),
        RawCase("http-0.9", b"GET /items/1\r\n"),
        RawCase("expect-100", _raw(ITEM_POST, HOST, b"Expect: 100-continue", b"Content-Type: application/json", b"Content-Length: %d" % len(VALID), CLOSE, body=VALID), ok=_statuses(100, 201), may_close=False),
        RawCase("expect-unknown", _raw(GET, HOST, b"Expect: teapot", CLOSE), ok=ok200 | {417}),
        RawCase("tls-client-hello", bytes.fromhex("16030100a5010000a10303") + bytes(64)),
        RawCase("upgrade-h2c", _raw(GET, HOST, b"Connection: Upgrade, HTTP2-Settings", b"Upgrade: h2c", b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA", CLOSE), ok=ok200),
        RawCase("websocket-bad-key", _raw(b"GET /ws HTTP/1.1", HOST, b"Upgrade: websocket", b"Connection: Upgrade", b"Sec-WebSocket-Version: 13", CLOSE)),
        RawCase("websocket-bad-version", _raw(b"GET /ws HTTP/1.1", HOST, b"Upgrade: websocket", b"Connection: Upgrade", b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", b"Sec-WebSocket-Version: 99", CLOSE)),
        RawCase("oversized-url", _raw(b"GET /items/1?q=" + b"a" * 40_000 + b" HTTP/1.1", HOST, CLOSE), ok=_statuses(431, 414, 400)),
        RawCase("oversized-header", _raw(GET, HOST, b"X-Big: " + b"a" * 40_000, CLOSE), ok=_statuses(431, 400)),
        RawCase("oversized-cookie", _raw(GET, HOST, b"Cookie: " + b"c=" * 20_000, CLOSE), ok=_statuses(431, 400)),
        RawCase("many-small-headers", _raw(GET, HOST, *[b"X-%d: v" % n for n in range(1000)], CLOSE), ok=ok200),
        RawCase("body-on-get", _raw(GET, HOST, b"Content-Length: 5", CLOSE, body=b"hello"), ok=ok200),
        RawCase("gzip-json-body", _raw(ITEM_POST, HOST, b"Content-Type: application/json", b"Content-Encoding: gzip", b"Content-Length: 10", CLOSE, body=bytes.fromhex("1f8b0800000000000003"))),
        RawCase("slowloris", _raw(GET, HOST, CLOSE), ok=_statuses(408), slow=True, may_close=True),
        RawCase("slowloris-post", _raw(ITEM_POST, HOST, b"Content-Length: 2", CLOSE), ok=_statuses(408), slow=True),
    ]  # fmt: skip
    for n in (2, 5, 20):
        pipelined = b"".join(_raw(b"GET /items/%d HTTP/1.1" % i, HOST) for i in range(n))
        cases.append(
            RawCase(
                f"pipelined-{n}",
                pipelined + _raw(GET, HOST, CLOSE),
                ok=_statuses(200),
                answers=n + 1,
                may_close=False,
            )
        )
    bad_middle = _raw(GET, HOST) + b"GARBAGE\r\n\r\n" + _raw(GET, HOST, CLOSE)
    cases.append(RawCase("pipelined-bad-middle", bad_middle, ok=ok200, answers=1))
    body = _raw(
        ITEM_POST,
        HOST,
        b"Content-Type: application/json",
        b"Content-Length: %d" % len(VALID),
        body=VALID,
    )
    cases.append(
        RawCase(
            "pipelined-posts",
            body * 3 + _raw(GET, HOST, CLOSE),
            ok=_statuses(200, 201),
            answers=4,
            may_close=False,
        )
    )
    rng = random.Random(14)
    for n in range(12):
        garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))
        cases.append(RawCase(f"garbage-{n}", garbage + b"\r\n\r\n"))
    for n, raw in enumerate(BAD_UTF8):
        cases.append(
            RawCase(f"utf8-in-path-{n}", _raw(b"GET /items/" + raw + b" HTTP/1.1", HOST, CLOSE))
        )
    return cases
