"""Scripts and styles served compressed, with validators, and under versioned immutable URLs.

The widget keeps its plain URL (`/humangate.js`, what owners paste; cached for minutes, so a
release reaches every page soon) and gains a versioned one (`/v/<digest>/humangate.js`, cached
for a year) that HumanGate's own pages use. Each file is read and compressed once per version
(gzip, and brotli when the `brotli` package is installed), never per request.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

try:  # optional: smaller than gzip where browsers ask for it
    import brotli  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the installation
    brotli = None

PACKAGE = Path(__file__).resolve().parent.parent
WIDGET = PACKAGE / "static" / "humangate.js"
# The vendor shims, where each vendor serves its script, so that a page written for the vendor
# changes only the script's host.
SHIMS = {
    "/recaptcha/api.js": PACKAGE / "static" / "shims" / "recaptcha.js",
    "/recaptcha/enterprise.js": PACKAGE / "static" / "shims" / "recaptcha.js",
    "/1/api.js": PACKAGE / "static" / "shims" / "hcaptcha.js",
    "/turnstile/v0/api.js": PACKAGE / "static" / "shims" / "turnstile.js",
}
SHORT_CACHE = "public, max-age=300"
IMMUTABLE = "public, max-age=31536000, immutable"
COMPRESSIBLE = {".js": "application/javascript", ".css": "text/css", ".svg": "image/svg+xml"}

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Asset:
    """One version of a file, with its compressed forms and its validator."""

    body: bytes
    media_type: str
    digest: str
    encoded: dict[str, bytes]

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'


def load_asset(path: Path) -> Asset:
    """The file at `path` as it is now: re-read only when its size or time changes."""
    stat = path.stat()
    return _asset(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _asset(path: Path, _mtime_ns: int, _size: int) -> Asset:
    body = path.read_bytes()
    encoded = {"gzip": gzip.compress(body, compresslevel=9, mtime=0)}
    if brotli is not None:
        encoded["br"] = brotli.compress(body)
    return Asset(
        body=body,
        media_type=COMPRESSIBLE.get(path.suffix, "application/octet-stream"),
        digest=hashlib.sha256(body).hexdigest()[:16],
        encoded=encoded,
    )


def accepted_encodings(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (`q=0` refuses one)."""
    accepted: set[str] = set()
    for item in header.lower().split(","):
        name, _, params = item.strip().partition(";")
        quality = params.strip()
        if quality.startswith("q="):
            try:
                if float(quality[2:]) <= 0:
                    continue
            except ValueError:
                continue
        if name:
            accepted.add(name.strip())
    return accepted


def asset_response(request: Request, asset: Asset, *, cache_control: str) -> Response:
    """`asset` in the best coding the client accepts, or 304 when it holds this version."""
    headers = {"ETag": asset.etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    accepted = accepted_encodings(request.headers.get("accept-encoding", ""))
    for coding in ("br", "gzip"):
        if coding in asset.encoded and coding in accepted:
            headers["Content-Encoding"] = coding
            return Response(asset.encoded[coding], media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def widget_src() -> str:
    """The widget's versioned URL, for HumanGate's own pages."""
    return f"/v/{load_asset(WIDGET).digest}/humangate.js"


@router.get("/humangate.js", include_in_schema=False)
async def widget_script(request: Request) -> Response:
    return asset_response(request, load_asset(WIDGET), cache_control=SHORT_CACHE)


@router.get("/v/{digest}/humangate.js", include_in_schema=False)
async def versioned_widget_script(request: Request, digest: str) -> Response:
    """This version cached for good; a page naming an older one gets today's, briefly cached."""
    asset = load_asset(WIDGET)
    cache = IMMUTABLE if digest == asset.digest else SHORT_CACHE
    return asset_response(request, asset, cache_control=cache)


def _shim_script(file: Path) -> Callable[[Request], Awaitable[Response]]:
    async def shim_script(request: Request) -> Response:
        return asset_response(request, load_asset(file), cache_control=SHORT_CACHE)

    return shim_script


for shim_path, shim_file in SHIMS.items():
    router.add_api_route(
        shim_path, _shim_script(shim_file), methods=["GET"], include_in_schema=False
    )


MIN_COMPRESSED_PAGE = 1024


def compress_page(request: Request, response: Response) -> Response:
    """Gzip a rendered page's body in place when the client accepts it and it is worth it."""
    body = bytes(response.body)
    if (
        len(body) < MIN_COMPRESSED_PAGE
        or "content-encoding" in response.headers
        or "gzip" not in accepted_encodings(request.headers.get("accept-encoding", ""))
    ):
        return response
    response.body = gzip.compress(body, compresslevel=6)
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(response.body))
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    return response
