"""The guarded HTTP client, against a real server on 127.0.0.1, and its SSRF guard."""

import gzip
import ipaddress
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from portal.lib.http import (
    CredentialsRejected,
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    GuardedClient,
    ResponseTooLarge,
    UnsafeURLError,
    address_refusal,
    check_url,
    retry_after_seconds,
)
from portal.testing import Pace, Reply, SlowServer

pytestmark = pytest.mark.usefixtures("settings")


def client(**options) -> GuardedClient:
    options.setdefault("backoff_base", 0.05)
    return GuardedClient(**options)


def test_it_fetches_a_body(local_server):
    local_server.serve("/feed.json", Reply(b'{"ok": true}', headers={"Content-Type": "application/json"}))

    with client() as http:
        response = http.get(local_server.url(), headers={"Authorization": "Bearer k"})

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert local_server.requests[0].headers["Authorization"] == "Bearer k"
    assert local_server.requests[0].headers["User-Agent"].startswith("gpu-marketplace-sync/")


def test_it_decompresses_gzip(local_server):
    local_server.serve("/feed.json", Reply(gzip.compress(b"x" * 5000), headers={"Content-Encoding": "gzip"}))

    with client() as http:
        assert http.get(local_server.url()).content == b"x" * 5000


def test_the_size_cap_applies_to_declared_lengths(local_server):
    local_server.serve("/feed.json", Reply(b"x" * 10_000))

    with client(max_bytes=1000) as http, pytest.raises(ResponseTooLarge, match="larger than the 1,000 bytes"):
        http.get(local_server.url())


def test_the_size_cap_applies_while_streaming_an_undeclared_length(local_server):
    local_server.serve("/feed.json", Reply(b"x" * 10_000, send_length=False))

    with client(max_bytes=1000) as http, pytest.raises(ResponseTooLarge):
        http.get(local_server.url())


def test_the_size_cap_applies_after_decompression(local_server):
    bomb = gzip.compress(b"0" * 1_000_000)  # about 1 kB on the wire
    local_server.serve("/feed.json", Reply(bomb, headers={"Content-Encoding": "gzip"}))

    with client(max_bytes=100_000) as http, pytest.raises(ResponseTooLarge):
        http.get(local_server.url())


def test_a_truncated_body_is_an_error(local_server):
    local_server.serve("/feed.json", Reply(b'{"offers": [', content_length=5000))

    with client() as http, pytest.raises(FetchError, match="closed the connection before the whole response"):
        http.get(local_server.url())


def test_a_slow_server_times_out(local_server):
    local_server.serve("/feed.json", Reply(b"{}", delay=1.5))

    started = time.monotonic()
    with client(read_timeout=0.3) as http, pytest.raises(FetchTimeout, match="read timeout"):
        http.get(local_server.url())
    assert time.monotonic() - started < 1.4  # not retried


def test_a_server_trickling_its_body_hits_the_overall_deadline():
    # Never silent for a read timeout, but the whole answer would take minutes.
    with SlowServer() as server:
        server.serve("/feed.json", Reply(b"x" * 1000))
        server.pace("/feed.json", Pace(head=10, pause=0.1, chunk=5))

        started = time.monotonic()
        with client(read_timeout=0.5, total_timeout=1) as http, pytest.raises(FetchTimeout, match="took more than 1 s"):
            http.get(server.url())
    assert time.monotonic() - started < 2


def test_a_refused_connection_is_an_error(local_server):
    url = local_server.url()
    local_server.close()

    with client(max_retries=1) as http, pytest.raises(FetchError, match="Could not connect"):
        http.get(url)


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_are_permanent_and_not_retried(local_server, status):
    local_server.serve("/feed.json", Reply(b"denied", status))

    with (
        client() as http,
        pytest.raises(CredentialsRejected, match=f"rejected our credentials \\(HTTP {status}") as caught,
    ):
        http.get(local_server.url())

    assert caught.value.permanent
    assert local_server.hits("/feed.json") == 1


def test_not_found_is_permanent(local_server):
    with client() as http, pytest.raises(FetchHTTPError, match="HTTP 404 Not Found") as caught:
        http.get(local_server.url("/nothing-here"))
    assert caught.value.permanent


def test_a_500_then_success_is_retried(local_server):
    local_server.serve("/feed.json", Reply(b"oops", 500), Reply(b"oops", 503), Reply(b"{}"))

    with client() as http:
        assert http.get(local_server.url()).content == b"{}"
    assert local_server.hits("/feed.json") == 3


def test_persistent_server_errors_give_up_after_the_retries(local_server):
    local_server.serve("/feed.json", Reply(b"oops", 502))

    with client(max_retries=2) as http, pytest.raises(FetchHTTPError, match="HTTP 502 Bad Gateway\\) after 3 attempts"):
        http.get(local_server.url())
    assert local_server.hits("/feed.json") == 3


def test_429_waits_for_retry_after(local_server):
    local_server.serve("/feed.json", Reply(b"slow down", 429, {"Retry-After": "1"}), Reply(b"{}"))

    started = time.monotonic()
    with client() as http:
        assert http.get(local_server.url()).content == b"{}"
    assert time.monotonic() - started >= 1.0


def test_429_asking_for_a_long_wait_is_not_waited_for_in_a_worker(local_server):
    local_server.serve("/feed.json", Reply(b"slow down", 429, {"Retry-After": "3600"}), Reply(b"{}"))

    started = time.monotonic()
    with client() as http, pytest.raises(FetchHTTPError, match="limiting our requests") as caught:
        http.get(local_server.url())
    assert time.monotonic() - started < 1
    assert not caught.value.permanent


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)

    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_redirects_are_followed_and_credentials_stay_with_their_origin(local_server, other_server):
    local_server.serve(
        "/feed.json", Reply(status=302, headers={"Location": other_server.url("/moved.json", "localhost")})
    )
    other_server.serve("/moved.json", Reply(b'{"moved": true}'))

    with client() as http:
        response = http.get(local_server.url(), headers={"Authorization": "Bearer secret"})

    assert response.json() == {"moved": True}
    assert "Authorization" not in other_server.requests[0].headers


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_no_header_of_ours_follows_a_redirect_to_another_origin(local_server, other_server, status):
    """Providers put their keys in all sorts of headers: Shadeform's X-API-KEY, Hyperstack's api_key."""
    local_server.serve("/feed.json", Reply(status=status, headers={"Location": other_server.url("/moved.json")}))
    other_server.serve("/moved.json", Reply(b"{}"))
    secrets = {"Authorization": "Bearer a", "X-API-KEY": "b", "api_key": "c", "Cookie": "d=e", "X-Token": "f"}

    with client() as http:
        http.get(local_server.url(), headers=secrets)

    seen = {name.lower() for name in other_server.requests[0].headers}
    assert seen.isdisjoint(name.lower() for name in secrets)
    assert other_server.requests[0].headers["User-Agent"].startswith("gpu-marketplace-sync/")


@pytest.mark.parametrize("status", [307, 308])
def test_a_body_is_never_sent_again_to_another_origin(local_server, other_server, status):
    """Verda's token request posts the client secret: a 307 or 308 elsewhere must not re-send it."""
    local_server.serve("/oauth2/token", Reply(status=status, headers={"Location": other_server.url("/steal")}))

    with client() as http, pytest.raises(FetchError, match="another host") as error:
        http.post(local_server.url("/oauth2/token"), json={"client_id": "id", "client_secret": "secret"})

    assert error.value.permanent
    assert other_server.requests == []


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_post_redirected_to_another_origin_becomes_a_get_without_body(local_server, other_server, status):
    local_server.serve("/oauth2/token", Reply(status=status, headers={"Location": other_server.url("/next")}))
    other_server.serve("/next", Reply(b"{}"))

    with client() as http:
        http.post(local_server.url("/oauth2/token"), json={"client_secret": "secret"})

    assert (other_server.requests[0].method, other_server.requests[0].body) == ("GET", b"")


def test_a_same_origin_307_re_sends_the_body(local_server):
    local_server.serve("/token", Reply(status=307, headers={"Location": "/v2/token"}))
    local_server.serve("/v2/token", Reply(b"{}"))

    with client() as http:
        http.post(local_server.url("/token"), json={"client_secret": "secret"})

    assert local_server.requests[1].method == "POST" and b"secret" in local_server.requests[1].body


def test_same_origin_redirects_keep_credentials(local_server):
    local_server.serve("/feed.json", Reply(status=301, headers={"Location": "/v1/feed.json"}))
    local_server.serve("/v1/feed.json", Reply(b"{}"))

    with client() as http:
        http.get(local_server.url(), headers={"Authorization": "Bearer secret"})

    assert local_server.requests[1].headers["Authorization"] == "Bearer secret"


def test_redirect_loops_stop(local_server):
    local_server.serve("/feed.json", Reply(status=302, headers={"Location": "/feed.json"}))

    with client(max_redirects=3) as http, pytest.raises(FetchError, match="Too many redirects"):
        http.get(local_server.url())
    assert local_server.hits("/feed.json") == 4


# --- SSRF guard (SYNC_ALLOW_PRIVATE_ADDRESSES off, as in production) ---------------------------


@pytest.fixture
def guarded(settings):
    settings.SYNC_ALLOW_PRIVATE_ADDRESSES = False
    return client()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://feeds.example.com/feed.json", "Only https:// URLs are allowed"),
        ("https://127.0.0.1/feed.json", "127.0.0.1 is a loopback address"),
        ("https://10.0.0.1/feed.json", "10.0.0.1 is a private network address"),
        ("https://192.168.1.20/feed.json", "private network address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://[::1]/feed.json", ":1 is a loopback address"),
        ("https://[::ffff:10.1.2.3]/feed.json", "private network address"),
        ("https://0.0.0.0/feed.json", "reserved address"),
        ("https://100.64.0.1/feed.json", "not a public internet address"),
        ("ftp://example.com/feed.json", "is not an http(s) URL"),
    ],
)
def test_the_guard_refuses_urls_before_any_connection(guarded, url, message):
    with pytest.raises(UnsafeURLError, match=message.replace("(", "\\(").replace(")", "\\)")) as caught:
        guarded.get(url)
    assert caught.value.permanent


def test_the_guard_refuses_a_name_resolving_to_a_private_address(guarded, local_server):
    # Checked on the resolved addresses inside the transport: no request reaches the server.
    with pytest.raises(UnsafeURLError, match="localhost resolves to .*loopback address"):
        guarded.get(local_server.url(host="localhost").replace("http://", "https://"))
    assert local_server.requests == []


def test_the_guard_applies_to_the_transport_not_only_the_url_check(settings, local_server):
    """Even a URL that skipped check_url cannot reach a private address."""
    http = client(allow_private=False)

    with pytest.raises(UnsafeURLError):
        http._client.get(local_server.url())
    assert local_server.requests == []


@pytest.mark.parametrize(
    ("address", "refusal"),
    [
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped
        ("64:ff9b::a00:1", "a private network address"),  # NAT64 of 10.0.0.1
        ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
        ("2002:a9fe:a9fe::", "a link-local address (such as a cloud metadata service)"),  # 6to4 of 169.254.169.254
        ("fe80::1%eth0", "a link-local address (such as a cloud metadata service)"),
        ("224.0.0.1", "a multicast address"),
        ("fd00::1", "a private network address"),
    ],
)
def test_addresses_embedding_an_ipv4_address_are_judged_by_it(address, refusal):
    assert address_refusal(ipaddress.ip_address(address)) == refusal


def test_check_url_lets_public_https_urls_through_without_resolving_them():
    assert check_url("https://feeds.example.com/v1.json", allow_private=False).host == "feeds.example.com"


def test_private_addresses_are_allowed_only_by_setting(settings, local_server):
    local_server.serve("/feed.json", Reply(b"{}"))
    settings.SYNC_ALLOW_PRIVATE_ADDRESSES = True

    assert client().get(local_server.url()).status_code == 200
