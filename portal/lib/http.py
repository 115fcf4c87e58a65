"""The guarded HTTP client every provider sync goes through.

It fetches what a provider's staff typed into a form, so it trusts nothing about it:

- connect and read timeouts, and an overall deadline, so a slow server cannot hold a worker;
- the body is streamed and abandoned past ``SYNC_MAX_RESPONSE_BYTES`` (after decompression);
- redirects are followed by hand, a few at most, and each target is checked again; on a
  redirect to another origin no header the caller set is sent and a request body is never
  re-sent (such a 307/308 is refused), so no credential reaches another host;
- 429 and 5xx are retried with exponential backoff and jitter, honouring ``Retry-After``;
- unless ``SYNC_ALLOW_PRIVATE_ADDRESSES`` (tests, the local demo), URLs must be https and every
  address a name resolves to must be a public one. The check is made on the address the socket
  actually connects to, inside the transport, so DNS rebinding between check and use is moot.

Errors are ``FetchError`` subclasses whose message a provider can read on the dashboard, and
whose ``permanent`` flag says whether retrying without an edit can help.
"""

import email.utils
import functools
import ipaddress
import os
import random
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx
from django.conf import settings

MAX_REDIRECTS = 5
MAX_RETRIES = 2  # so at most three attempts
BACKOFF_BASE_SECONDS = 0.5
# A Retry-After longer than this is not waited for in a worker: the run fails and the
# connection's own backoff schedules the next attempt.
MAX_RETRY_WAIT_SECONDS = 10.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Error responses are read only this far: enough for an adapter to explain them.
ERROR_BODY_BYTES = 64 * 1024
USER_AGENT = "gpu-marketplace-sync/1"
# RFC 6052: a NAT64 gateway turns 64:ff9b::a.b.c.d into a connection to a.b.c.d.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class FetchError(Exception):
    """A fetch that failed. The message is written for the provider's staff."""

    permanent = False

    def __init__(self, message: str, *, permanent: bool | None = None):
        super().__init__(message)
        if permanent is not None:
            self.permanent = permanent


class UnsafeURLError(FetchError):
    """The URL or an address it resolves to is not one the portal may fetch (SSRF guard)."""

    permanent = True


class FetchTimeout(FetchError):
    pass


class ResponseTooLarge(FetchError):
    pass


class FetchHTTPError(FetchError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, status_code: int, permanent: bool | None = None):
        super().__init__(message, permanent=permanent)
        self.status_code = status_code


class CredentialsRejected(FetchHTTPError):
    """401 or 403: nothing will change until someone edits the connection's credentials."""

    permanent = True


class _ConnectFailed(FetchError):
    """Could not open a connection; worth another attempt."""


@dataclass(frozen=True)
class FetchResponse:
    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.content)


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the portal must not connect to ``address``, or None if it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address reach that address: judge the IPv4 one.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (such as a cloud metadata service)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private network address"
    if not address.is_global:
        return "not a public internet address"
    return None


def check_url(url: str | httpx.URL, *, allow_private: bool | None = None) -> httpx.URL:
    """Refuse a URL the portal must not fetch, without any network access.

    Host names are checked later, on the addresses they resolve to when connecting.
    Forms can call this to reject a base URL early.
    """
    if allow_private is None:
        allow_private = settings.SYNC_ALLOW_PRIVATE_ADDRESSES
    try:
        parsed = httpx.URL(str(url))
    except httpx.InvalidURL as exc:
        raise UnsafeURLError(f"{url!s} is not a valid URL ({exc}).") from None
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise UnsafeURLError(f"{url!s} is not an http(s) URL.")
    if allow_private:
        return parsed
    if parsed.scheme != "https":
        raise UnsafeURLError(f"Only https:// URLs are allowed; {url!s} is not one.")
    try:
        address = ipaddress.ip_address(parsed.host)
    except ValueError:
        return parsed  # a name: its addresses are checked when connecting
    reason = address_refusal(address)
    if reason:
        raise UnsafeURLError(f"{parsed.host} is {reason}; the portal only fetches from public internet addresses.")
    return parsed


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves the host once, refuses non-public addresses, connects to a vetted address.

    TLS still verifies the certificate against the host name: httpcore passes the origin's
    name as the server name when it upgrades this stream.
    """

    def __init__(self, *, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if self.allow_private:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        for address in addresses:
            self._refuse_if_unsafe(host, address)
        error: Exception | None = None
        for address in addresses:
            try:
                stream = super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            try:
                # Belt and braces: the peer we are actually connected to.
                self._refuse_if_unsafe(host, stream.get_extra_info("server_addr")[0])
            except UnsafeURLError:
                stream.close()
                raise
            return stream
        raise error or httpcore.ConnectError(f"no address for {host}")

    @staticmethod
    def _refuse_if_unsafe(host: str, address: str) -> None:
        reason = address_refusal(ipaddress.ip_address(address))
        if reason:
            raise UnsafeURLError(
                f"{host} resolves to {address}, {reason}; the portal only fetches from public internet addresses."
            )


def _ssl_context() -> ssl.SSLContext:
    # The trust store is certifi's, or SSL_CERT_FILE / SSL_CERT_DIR when set (as httpx does).
    return _ssl_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _ssl_context_for(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    # Loading a CA bundle costs tens of milliseconds of CPU, more than a whole small sync: once
    # per process and trust store, not per client. A context is safe to share between threads.
    return httpx.create_ssl_context()


def _transport(*, allow_private: bool) -> httpx.HTTPTransport:
    context = _ssl_context()
    transport = httpx.HTTPTransport(verify=context, trust_env=False)
    # httpx has no public hook for the network backend: give the transport a pool that uses ours.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=context,
        max_connections=10,
        max_keepalive_connections=5,
        keepalive_expiry=5.0,
        network_backend=_GuardedBackend(allow_private=allow_private),
    )
    return transport


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _status_error(response: FetchResponse, attempts: int) -> FetchHTTPError:
    status = response.status_code
    phrase = f"HTTP {status}"
    try:
        from http import HTTPStatus

        phrase += f" {HTTPStatus(status).phrase}"
    except ValueError:
        pass
    if status in {401, 403}:
        return CredentialsRejected(
            f"The provider's API rejected our credentials ({phrase}). Edit the connection's API key.",
            status_code=status,
        )
    if status == 404:
        return FetchHTTPError(
            f"Nothing was found at {response.url} ({phrase}). Check the connection's URL.",
            status_code=status,
            permanent=True,
        )
    if status == 429:
        return FetchHTTPError(
            f"The provider's API is limiting our requests ({phrase}) after {attempts} attempts; "
            "the next sync will try again later.",
            status_code=status,
        )
    if status >= 500:
        return FetchHTTPError(f"The provider's server failed ({phrase}) after {attempts} attempts.", status_code=status)
    return FetchHTTPError(f"Unexpected answer from {response.url} ({phrase}).", status_code=status, permanent=True)


class GuardedClient:
    """An HTTP client for provider APIs. Use as a context manager, or call close().

    ``request()`` returns the response of a 2xx answer and raises a FetchError otherwise.
    Settings are read when the client is made, so tests can override them.
    """

    def __init__(
        self,
        *,
        allow_private: bool | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_bytes: int | None = None,
        max_redirects: int = MAX_REDIRECTS,
        max_retries: int = MAX_RETRIES,
        backoff_base: float = BACKOFF_BASE_SECONDS,
        max_retry_wait: float = MAX_RETRY_WAIT_SECONDS,
        total_timeout: float | None = None,
    ):
        self.allow_private = settings.SYNC_ALLOW_PRIVATE_ADDRESSES if allow_private is None else allow_private
        self.connect_timeout = settings.SYNC_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        self.read_timeout = settings.SYNC_READ_TIMEOUT if read_timeout is None else read_timeout
        self.max_bytes = settings.SYNC_MAX_RESPONSE_BYTES if max_bytes is None else max_bytes
        self.max_redirects = max_redirects
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_retry_wait = max_retry_wait
        # Whatever the server does, one request() ends within this (plus one read timeout).
        self.total_timeout = total_timeout or max(60.0, 3 * (self.connect_timeout + self.read_timeout))
        self._client = httpx.Client(
            transport=_transport(allow_private=self.allow_private),
            timeout=httpx.Timeout(
                connect=self.connect_timeout, read=self.read_timeout, write=self.read_timeout, pool=self.connect_timeout
            ),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def __enter__(self) -> "GuardedClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, **kwargs) -> FetchResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> FetchResponse:
        return self.request("POST", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> FetchResponse:
        deadline = time.monotonic() + self.total_timeout
        for attempt in range(1, self.max_retries + 2):
            last_attempt = attempt > self.max_retries
            try:
                response = self._follow_redirects(
                    method, url, headers=headers or {}, params=params, json=json, content=content, deadline=deadline
                )
            except _ConnectFailed:
                if last_attempt:
                    raise
                wait = self._backoff(attempt)
            else:
                if 200 <= response.status_code < 300:
                    return response
                if response.status_code not in RETRY_STATUSES or last_attempt:
                    raise _status_error(response, attempt)
                wait = retry_after_seconds(response.headers.get("retry-after"))
                if wait is None:
                    wait = self._backoff(attempt)
                elif wait > self.max_retry_wait:
                    # Honour the server: not now, and not by blocking a worker for minutes.
                    raise _status_error(response, attempt)
            if time.monotonic() + wait > deadline:
                raise FetchTimeout(f"Gave up on {url} after {attempt} attempts: the server kept failing.")
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        # Exponential, with jitter so that many workers do not retry in step.
        return self.backoff_base * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)

    def _follow_redirects(self, method, url, *, headers, params, json, content, deadline) -> FetchResponse:
        target = check_url(url, allow_private=self.allow_private)
        origin = (target.scheme, target.host, target.port)
        headers = dict(headers)
        for _ in range(self.max_redirects + 1):
            response, location = self._send(method, target, headers, params, json, content, deadline)
            if location is None:
                return response
            target = check_url(target.join(location), allow_private=self.allow_private)
            params = None  # the Location already carries its query
            if response.status_code == 303 or (response.status_code in {301, 302} and method == "POST"):
                method, json, content = "GET", None, None
            if (target.scheme, target.host, target.port) != origin:
                # Never hand the provider's credentials to another origin. They travel in headers
                # of every name (Authorization, X-API-KEY, api_key...) and in bodies (a token
                # request's client secret): drop every header the adapter set, and refuse to
                # re-send a body (307/308), whatever the new host says.
                headers = {}
                if json is not None or content is not None:
                    raise FetchError(
                        f"{url} redirected a request with a body to another host ({target.host}); "
                        "the portal does not send it there. Use the final URL in the connection.",
                        permanent=True,
                    )
        raise FetchError(f"Too many redirects (more than {self.max_redirects}) starting from {url}.", permanent=True)

    def _send(self, method, url: httpx.URL, headers, params, json, content, deadline):
        """One request; returns (response, redirect location or None)."""
        host = url.host
        try:
            with self._client.stream(
                method, url, headers=headers, params=params, json=json, content=content
            ) as response:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    return FetchResponse(str(url), response.status_code, response.headers, b""), location
                limit = self.max_bytes if 200 <= response.status_code < 300 else ERROR_BODY_BYTES
                body = self._read_capped(response, limit, deadline, truncate=limit == ERROR_BODY_BYTES)
                return FetchResponse(str(response.url), response.status_code, response.headers, body), None
        except FetchError:
            raise
        except httpx.ConnectTimeout:
            raise FetchTimeout(f"Could not connect to {host} within {self.connect_timeout:g} s.") from None
        except httpx.ReadTimeout:
            raise FetchTimeout(
                f"{host} stopped sending data for more than {self.read_timeout:g} s (read timeout)."
            ) from None
        except httpx.TimeoutException:
            raise FetchTimeout(f"Talking to {host} timed out.") from None
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                # Not worth a retry: the server's certificate must be fixed (or the URL's host name).
                raise FetchError(
                    f"The TLS certificate of {host} could not be verified ({exc}).", permanent=True
                ) from None
            raise _ConnectFailed(f"Could not connect to {host}: {exc}.") from None
        except httpx.RemoteProtocolError as exc:
            if "incomplete" in str(exc) or "complete message body" in str(exc):
                raise FetchError(f"{host} closed the connection before the whole response arrived ({exc}).") from None
            raise FetchError(f"{host} sent a response that is not valid HTTP ({exc}).") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchError(f"Network error talking to {host}: {exc}.") from None

    def _read_capped(self, response: httpx.Response, limit: int, deadline: float, *, truncate: bool) -> bytes:
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(self._too_large(response, limit))
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                if truncate:
                    return bytes(body[:limit])
                raise ResponseTooLarge(self._too_large(response, limit))
            if time.monotonic() > deadline:
                raise FetchTimeout(f"{response.url.host} took more than {self.total_timeout:g} s to send its answer.")
        return bytes(body)

    @staticmethod
    def _too_large(response: httpx.Response, limit: int) -> str:
        return f"The response from {response.url.host} is larger than the {limit:,} bytes allowed; the sync stopped."
