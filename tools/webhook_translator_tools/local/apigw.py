"""A local stand-in for the HTTP API: ``POST /webhooks/{source}`` → a payload-2.0 event → the receiver.

The event is built the way API Gateway HTTP APIs build it: ``version`` "2.0",
``routeKey``, ``rawPath``, ``rawQueryString``, lower-cased header names (repeated
headers joined with commas, cookies apart), ``queryStringParameters``,
``pathParameters``, ``requestContext`` (``http.method/path/sourceIp/userAgent``,
``domainName``, ``requestId``, ``timeEpoch``…) and the body as text — or base64
with ``isBase64Encoded`` for a binary media type or a body that is not UTF-8.
The answer is the handler's ``statusCode``, ``headers`` and ``body``.
Any other route is answered like API Gateway does: 404 ``{"message":"Not Found"}``.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from webhook_translator.redact import redact
from webhook_translator_tools.local.console import Console
from webhook_translator_tools.local.loopback import MethodHandler
from webhook_translator_tools.local.threads import ServerThread

__all__ = ["ROUTE_KEY", "ReceiverServer", "build_event", "is_text_media_type"]

ROUTE_KEY: Final = "POST /webhooks/{source}"
#: the template's second route: subscription handshakes (Meta's hub.challenge); other sources answer 405
GET_ROUTE_KEY: Final = "GET /webhooks/{source}"
#: API Gateway's payload limit for HTTP APIs
MAX_PAYLOAD_BYTES: Final = 10 * 1024 * 1024
API_ID: Final = "local"
#: pending connections the receiver's socket holds (Linux caps it at net.core.somaxconn, 4096 by default)
LISTEN_BACKLOG: Final = 1024

Invoke = Callable[[dict[str, Any]], Any]


def is_text_media_type(content_type: str) -> bool:
    """Whether API Gateway passes a body of this type as text (others arrive base64-encoded)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/")
        or media in ("application/json", "application/javascript", "application/xml")
        or media.endswith(("+json", "+xml"))
    )


def _api_time(epoch: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch))


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Repeated names joined with commas, as API Gateway joins them."""
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def _merged_headers(headers: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """(the headers lower-cased and joined, the cookies): payload 2.0 takes ``Cookie`` apart."""
    cookies = [c.strip() for name, value in headers if name.lower() == "cookie" for c in value.split(";") if c.strip()]
    return _joined((name.lower(), value) for name, value in headers if name.lower() != "cookie"), cookies


def _body_text(body: bytes, content_type: str) -> tuple[str | None, bool]:
    """(the body as text when it is UTF-8, whether API Gateway would base64-encode it)."""
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return text, bool(body) and (text is None or not is_text_media_type(content_type))


def build_event(
    *,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    source: str,
    now: float | None = None,
) -> dict[str, Any]:
    """A payload-2.0 event for one request to ``/webhooks/{source}``."""
    now = time.time() if now is None else now
    split = urlsplit(target)
    merged, cookies = _merged_headers(headers)
    query = _joined(parse_qsl(split.query, keep_blank_values=True))
    domain = merged.get("host", "localhost").split(":", 1)[0]
    text, encoded = _body_text(body, merged.get("content-type", ""))
    route_key = GET_ROUTE_KEY if method == "GET" else ROUTE_KEY
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": merged,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": base64.b64encode(secrets.token_bytes(12)).decode("ascii").rstrip("=") + "=",
            "routeKey": route_key,
            "stage": "$default",
            "time": _api_time(now),
            "timeEpoch": int(now * 1000),
        },
        "pathParameters": {"source": source},
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = base64.b64encode(body).decode("ascii") if encoded else text
    return event


class _Server(ThreadingHTTPServer):
    """A thread per connection (each waits its turn at the receiver), and a listen backlog for bursts:
    socketserver's default of 5 resets connections when a provider's retries and a replay arrive together."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG
    invoke: Invoke
    console: Console | None


class _Handler(MethodHandler):
    server: _Server
    server_version = "LocalApiGateway/1"

    def serve_method(self, method: str) -> None:
        path = urlsplit(self.path).path
        parts = path.split("/")
        # /webhooks/{source}: exactly one non-empty segment after /webhooks
        if method not in ("POST", "GET") or len(parts) != 3 or parts[1] != "webhooks" or not parts[2]:
            self._drain()
            self._send(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
            return
        body = self._read_body()
        if body is None:
            self._send(413, {"content-type": "application/json"}, b'{"message":"Request Entity Too Large"}')
            return
        event = build_event(
            method=method,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            source=unquote(parts[2]),
        )
        try:
            result = self.server.invoke(event)
        except Exception as exc:  # the function crashed: API Gateway answers 500
            if self.server.console is not None:
                detail = redact(str(exc), 160)
                self.server.console.line(f"error: the receiver raised {type(exc).__name__}: {detail}")
            self._send(500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')
            return
        status, headers, payload = _answer(result)
        self._send(status, headers, payload)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_PAYLOAD_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        out = bytearray()
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line or b"0", 16)
            except ValueError:
                return bytes(out)
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return bytes(out)
            if len(out) + size > MAX_PAYLOAD_BYTES:
                return None
            out += self.rfile.read(size)
            self.rfile.readline(16)  # CRLF after the chunk

    def _drain(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if 0 < length <= MAX_PAYLOAD_BYTES:
            self.rfile.read(length)

    def _send(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("apigw-requestid", secrets.token_hex(8))
        self.end_headers()
        self.wfile.write(payload)


def _answer(result: Any) -> tuple[int, dict[str, str], bytes]:
    """The HTTP answer for a handler's return value (payload-2.0 response rules)."""
    if isinstance(result, dict) and "statusCode" in result:
        status = int(result["statusCode"])
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        raw = result.get("body")
        if raw is None:
            payload = b""
        elif result.get("isBase64Encoded"):
            payload = base64.b64decode(str(raw))
        else:
            payload = str(raw).encode("utf-8")
        return status, headers, payload
    # any other value: API Gateway infers a 200 JSON answer
    return 200, {"content-type": "application/json"}, json.dumps(result).encode("utf-8")


class ReceiverServer:
    """The HTTP server in front of the receiver function; bound on construction (a busy port fails here)."""

    def __init__(self, host: str, port: int, invoke: Invoke, *, console: Console | None = None) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.invoke = invoke
        self._server.console = console
        self._runner = ServerThread(self._server, "local-apigw")
        self.host = host

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._runner.start()

    def stop(self) -> None:
        self._runner.stop()
