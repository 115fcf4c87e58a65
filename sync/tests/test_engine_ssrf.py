"""The SSRF guard as production runs it (SYNC_ALLOW_PRIVATE_ADDRESSES off), through whole syncs.

Nothing here leaves 127.0.0.1. The network boundary is faked: ``socket.getaddrinfo`` answers
for the test's host names, and ``socket.create_connection`` sends connections for the pretend
public address PUBLIC to a local TLS server (whose socket then reports PUBLIC as its peer).
Every address the client connects to is recorded, so the tests can say where it went. The
certificate is issued for the host names by a test CA, trusted through SSL_CERT_FILE.
"""

import ipaddress
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.models import Offer
from portal.lib.http import GuardedClient, UnsafeURLError
from portal.testing import LocalServer, Reply
from sync.engine import sync_connection_run
from sync.models import SyncConnection, SyncRun
from sync.tests.support import feed_document

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # a public address; never really connected to
NAMES = ["feeds.example.com", "rebind.example.com"]  # the certificate's names


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> dict:
    """A test CA, and a server certificate it signed for NAMES."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = tmp_path_factory.mktemp("tls")
    now = datetime.now(UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sync tests CA")])

    def builder(subject, key):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )

    ca = (
        builder(ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )  # digital signature, certificate and CRL signing
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAMES[0])]), server_key)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in NAMES]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture
def tls_server(certificates, monkeypatch):
    """A local HTTPS server standing in for a provider's public API."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates["cert"], certificates["key"])
    server = LocalServer()
    accept = server.httpd.get_request

    def get_request():
        sock, address = accept()
        sock.settimeout(5)
        return context.wrap_socket(sock, server_side=True), address

    server.httpd.get_request = get_request
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates["ca"]))  # the client trusts the test CA
    yield server
    server.close()


class _PeerAs(socket.socket):
    """A connected socket that reports another peer address (the pretend public one)."""

    peer: tuple

    def getpeername(self):
        return self.peer


@dataclass
class Network:
    """The faked network boundary: name resolution and TCP connects."""

    tls_port: int
    dns: dict[str, list[list[str]]] = field(default_factory=dict)  # name -> successive answers
    resolved: list[str] = field(default_factory=list)
    connected: list[tuple[str, int]] = field(default_factory=list)
    peer: str = PUBLIC  # what a connection to PUBLIC reports as its peer

    def answer(self, name: str, *answers: list[str]) -> None:
        self.dns[name] = list(answers)

    def getaddrinfo(self, host, port, *args, **kwargs):
        self.resolved.append(host)
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            answers = self.dns.get(host)
            if not answers:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]

    def create_connection(self, address, timeout=None, source_address=None, **kwargs):
        self.connected.append(tuple(address))
        if address[0] != PUBLIC:
            raise ConnectionRefusedError(111, "Connection refused (test network)")
        sock = _PeerAs(socket.AF_INET, socket.SOCK_STREAM)
        sock.peer = (self.peer, address[1])
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", self.tls_port))  # an address: no name resolution
        return sock


@pytest.fixture
def network(tls_server, settings, monkeypatch) -> Network:
    settings.SYNC_ALLOW_PRIVATE_ADDRESSES = False
    fake = Network(tls_port=tls_server.port)
    fake.answer("feeds.example.com", [PUBLIC])
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", fake.create_connection)
    return fake


@pytest.fixture
def public_feed(acme, tls_server, network) -> SyncConnection:
    """Acme's connection to its "public" HTTPS API, synced once: four offers."""
    tls_server.serve("/feed.json", feed_document())
    connection = SyncConnection.objects.create(provider=acme, base_url="https://feeds.example.com/feed.json")
    assert sync(connection).created == 4
    network.connected.clear()
    return connection


def sync(connection) -> SyncRun:
    run = sync_connection_run(connection=connection)
    assert run is not None
    return run


def offers_state(provider) -> list[tuple]:
    return list(
        Offer.objects.filter(provider=provider)
        .order_by("external_id")
        .values_list("external_id", "status", "price_per_gpu_hour", "nodes_available", "last_verified_at")
    )


def test_with_the_guard_on_a_public_https_api_syncs(public_feed, acme, tls_server, network):
    document = feed_document()
    document["offers"][0]["price_per_gpu_hour"] = "1.99"
    tls_server.serve("/feed.json", document)

    run = sync(public_feed)

    assert (run.outcome, run.updated) == ("success", 1)
    assert network.connected == [(PUBLIC, 443)]  # the vetted address, never a name
    assert tls_server.requests[-1].headers["Host"] == "feeds.example.com"


# --- Base URLs that resolve to places the portal must not reach ---------------------------------


@pytest.mark.parametrize(
    ("base_url", "answer", "message"),
    [
        ("https://127.0.0.1/feed.json", None, "127.0.0.1 is a loopback address"),
        ("https://10.1.2.3/feed.json", None, "10.1.2.3 is a private network address"),
        ("https://169.254.169.254/latest/meta-data/", None, "169.254.169.254 is a link-local address"),
        ("https://[::1]/feed.json", None, "::1 is a loopback address"),
        ("https://[64:ff9b::a00:1]/feed.json", None, "is a private network address"),  # NAT64 of 10.0.0.1
        ("https://intranet.example.com/feed.json", ["192.168.4.20"], "resolves to 192.168.4.20, a private"),
        ("https://metadata.example.com/", ["169.254.169.254"], "resolves to 169.254.169.254, a link-local"),
        ("https://v6.example.com/feed.json", ["::1"], "resolves to ::1, a loopback address"),
        # One bad address among good ones is enough: the client might be sent to any of them.
        ("https://mixed.example.com/feed.json", [PUBLIC, "10.0.0.8"], "resolves to 10.0.0.8, a private"),
        ("http://feeds.example.com/feed.json", None, "Only https:// URLs are allowed"),
    ],
)
def test_a_base_url_reaching_a_private_address_is_refused(acme, network, base_url, answer, message):
    if answer:
        network.answer(base_url.split("/")[2], answer)
    connection = SyncConnection.objects.create(provider=acme, base_url=base_url)

    run = sync(connection)

    assert run.outcome == "failed"
    assert message in run.error
    assert run.error.endswith("the portal only fetches from public internet addresses.") or "https" in message
    assert network.connected == []  # refused before any connection
    connection.refresh_from_db()
    assert connection.next_sync_at - run.finished_at >= timedelta(hours=1)  # permanent: wait the longest


# --- Redirects are checked like the first URL ----------------------------------------------------


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://127.0.0.1:{port}/feed.json", "Only https:// URLs are allowed"),
        ("https://127.0.0.1:{port}/feed.json", "127.0.0.1 is a loopback address"),
        ("https://localhost:{port}/feed.json", "localhost resolves to 127.0.0.1, a loopback address"),
        ("https://[::1]:{port}/feed.json", "::1 is a loopback address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://intranet.example.com/feed.json", "resolves to 10.20.30.40, a private network address"),
    ],
)
def test_a_redirect_to_a_private_address_is_refused_and_no_offer_changes(
    public_feed, acme, tls_server, local_server, network, location, message
):
    network.answer("localhost", ["127.0.0.1"])
    network.answer("intranet.example.com", ["10.20.30.40"])
    local_server.serve("/feed.json", feed_document())  # what an internal service would answer
    tls_server.serve("/feed.json", Reply(status=302, headers={"Location": location.format(port=local_server.port)}))
    before = offers_state(acme)

    run = sync(public_feed)

    assert run.outcome == "failed"
    assert message in run.error
    assert offers_state(acme) == before
    assert network.connected == [(PUBLIC, 443)]  # the first hop only
    assert local_server.requests == []


# --- DNS rebinding: the address connected to is the address checked -----------------------------


def test_a_name_that_rebinds_to_loopback_after_the_check_is_never_connected_to_it(acme, tls_server, network):
    # First answer public, every later one loopback: a client that resolved twice (once to
    # check, once to connect) would connect to 127.0.0.1.
    network.answer("rebind.example.com", [PUBLIC], ["127.0.0.1"])
    tls_server.serve("/feed.json", feed_document())
    connection = SyncConnection.objects.create(provider=acme, base_url="https://rebind.example.com/feed.json")

    run = sync(connection)

    assert (run.outcome, run.created) == ("success", 4)
    assert network.resolved == ["rebind.example.com"]  # resolved once...
    assert network.connected == [(PUBLIC, 443)]  # ...and connected to what was checked

    run = sync(connection)  # a new resolution is checked again

    assert run.outcome == "failed"
    assert "rebind.example.com resolves to 127.0.0.1, a loopback address" in run.error
    assert network.connected == [(PUBLIC, 443)]


def test_a_connection_that_lands_on_a_private_peer_is_dropped(public_feed, network):
    network.peer = "10.9.8.7"  # e.g. a transparent proxy or a routing trick behind the public address

    with GuardedClient() as http, pytest.raises(UnsafeURLError, match="resolves to 10.9.8.7, a private"):
        http.get("https://feeds.example.com/feed.json")


def test_tls_is_verified_against_the_host_name_not_the_address(acme, network):
    network.answer("other.example.com", [PUBLIC])  # same server, but its certificate is not for this name
    connection = SyncConnection.objects.create(provider=acme, base_url="https://other.example.com/feed.json")

    run = sync(connection)

    assert run.outcome == "failed"
    assert "The TLS certificate of other.example.com could not be verified" in run.error
    assert network.connected == [(PUBLIC, 443)]  # permanent: not retried
