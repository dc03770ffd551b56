"""joselab.parties: real HTTP on 127.0.0.1 (caps, no redirects, no unknown hosts) and sqlite stores."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest

from joselab.errors import FetchError
from joselab.parties import Database, LocalServer, Network, ReplayStore, Response, json_response
from joselab.parties.http import MAX_BODY_BYTES, HttpResponse


@pytest.fixture
def net():
    network = Network()
    server = LocalServer("as.example", network)
    server.serve_json("/jwks", {"keys": []})
    counter = {"n": 0}

    def metadata():
        counter["n"] += 1
        return {"issuer": "https://as.example", "n": counter["n"]}

    server.serve_json("/meta", metadata)

    @server.route("POST", "/echo")
    def echo(request):
        return json_response(200, {"json": request.json(), "ct": request.headers.get("Content-Type"), "q": request.query})

    @server.route("POST", "/form")
    def form(request):
        return json_response(201, request.form())

    @server.route("GET", "/redirect")
    def redirect(request):
        return Response(302, b"", {"Location": "https://as.example/jwks"})

    @server.route("GET", "/boom")
    def boom(request):
        raise RuntimeError("handler bug")

    @server.route("GET", "/big")
    def big(request):
        return Response(200, b"x" * 2048, {"Content-Type": "application/octet-stream"})

    @server.route("GET", "/text")
    def text(request):
        return Response(200, b"<html>", {"Content-Type": "text/html"})

    with network:
        yield network


def test_get_json_over_real_http(net):
    assert net.get_json("https://as.example/jwks") == {"keys": []}
    assert net.get_json("https://as.example/meta")["n"] == 1
    assert net.get_json("https://as.example/meta")["n"] == 2  # a callable is called per request
    server = net.servers["as.example"]
    assert server.hits["/meta"] == 2
    assert server.base_url.startswith("http://127.0.0.1:") and server.url("/jwks") == "https://as.example/jwks"
    assert "127.0.0.1" in repr(server)


def test_post_json_and_form(net):
    resp = net.post("https://as.example/echo?x=1", b'{"a":1}', "application/json")
    assert resp.status == 200 and resp.json() == {"json": {"a": 1}, "ct": "application/json", "q": {"x": ["1"]}}
    resp = net.post("https://as.example/form", b"grant_type=client_credentials&scope=", "application/x-www-form-urlencoded")
    assert resp.status == 201 and resp.json() == {"grant_type": "client_credentials", "scope": ""}
    assert resp.headers["content-type"] == "application/json"


def test_unknown_path_and_method(net):
    assert net.request("GET", "https://as.example/nope").status == 404
    assert net.request("DELETE", "https://as.example/jwks").status == 405


def test_handler_exception_is_a_500_not_a_dead_server(net):
    resp = net.request("GET", "https://as.example/boom")
    assert resp.status == 500 and resp.json()["error_description"] == "RuntimeError"
    assert net.get_json("https://as.example/jwks") == {"keys": []}


def test_bad_request_body_is_a_500(net):
    assert net.post("https://as.example/echo", b"not json", "application/json").status == 500


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/jwks",
        "http://as.example/jwks",
        "https://as.example:8443/jwks",
        "https://as.example:abc/jwks",
        "file:///etc/passwd",
        "https://127.0.0.1/jwks",
        "//as.example/jwks",
        "",
    ],
    ids=["unknown-host", "not-https", "explicit-port", "bad-port", "file", "ip", "no-scheme", "empty"],
)
def test_network_refuses_without_sending(net, url):
    before = sum(net.servers["as.example"].hits.values())
    with pytest.raises(FetchError, match="no request was sent"):
        net.get_json(url)
    assert sum(net.servers["as.example"].hits.values()) == before


def test_non_string_url_is_a_fetch_error(net):
    with pytest.raises(FetchError):
        net.request("GET", None)  # type: ignore[arg-type]


def test_redirect_is_not_followed(net):
    server = net.servers["as.example"]
    with pytest.raises(FetchError, match="302"):
        net.get_json("https://as.example/redirect")
    assert server.hits["/jwks"] == 0


def test_non_json_and_non_200(net):
    with pytest.raises(FetchError, match="not JSON"):
        net.get_json("https://as.example/text")
    with pytest.raises(FetchError, match="404"):
        net.get_json("https://as.example/nope")


def test_response_over_the_cap(net):
    with pytest.raises(FetchError, match="cap"):
        net.request("GET", "https://as.example/big", max_bytes=1024)
    assert len(net.request("GET", "https://as.example/big", max_bytes=2048).body) == 2048


def test_request_body_over_the_cap_is_413(net):
    resp = net.post("https://as.example/echo", b"x" * (MAX_BODY_BYTES + 1), "application/json")
    assert resp.status == 413


class _RawServer:
    """A loopback server that answers without Content-Length, streaming until it closes."""

    def __init__(self, host: str, body: bytes) -> None:
        self.host = host
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, args=(body,), daemon=True)
        self.thread.start()

    def _serve(self, body: bytes) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body)

    def stop(self) -> None:
        self.sock.close()


def test_streamed_response_over_the_cap():
    network = Network()
    raw = _RawServer("stream.example", b"[" + b"1," * 5000 + b"1]")
    network.servers["stream.example"] = raw  # type: ignore[assignment]
    try:
        with pytest.raises(FetchError, match="over the 1024 byte cap"):
            network.request("GET", "https://stream.example/x", max_bytes=1024)
    finally:
        raw.stop()
        raw.thread.join(timeout=5)


def test_stopped_server_is_refused():
    network = Network()
    server = LocalServer("as.example", network)
    with pytest.raises(FetchError, match="not running"):
        network.get_json("https://as.example/")
    with pytest.raises(FetchError):
        _ = server.port
    with server:
        assert server.running
        assert server.start() is server  # starting twice is harmless
    assert not server.running and "stopped" in repr(server)


def test_network_close_stops_every_server():
    network = Network()
    a, b = LocalServer("a.example", network), LocalServer("b.example", network)
    network.start()
    assert a.running and b.running
    network.close()
    assert not a.running and not b.running


def test_http_response_json():
    assert HttpResponse(200, {}, b'{"a":1}').json() == {"a": 1}
    for body in [b"\xff", b"{", b"[" * 100_000]:
        with pytest.raises(FetchError):
            HttpResponse(200, {}, body).json()


def test_json_response_headers():
    resp = json_response(400, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    assert resp.status == 400 and resp.body == b'{"error":"invalid_token"}'
    assert resp.headers["Cache-Control"] == "no-store" and "WWW-Authenticate" in resp.headers


# -- sqlite ------------------------------------------------------------------------------------------
def test_replay_store_first_use_then_replay(tmp_path):
    store = ReplayStore(Database(tmp_path / "seen.sqlite"))
    assert store.first_use("jti-1", expires_at=200, now=100)
    assert not store.first_use("jti-1", expires_at=200, now=150)
    assert store.first_use("jti-2", expires_at=200, now=150)
    assert len(store) == 2


def test_replay_store_forgets_expired_values(tmp_path):
    store = ReplayStore(Database(tmp_path / "seen.sqlite"))
    assert store.first_use("jti-1", expires_at=200, now=100)
    assert not store.first_use("jti-1", expires_at=300, now=200)  # expires_at == now: still remembered
    assert store.first_use("jti-1", expires_at=400, now=201)  # the token it came with expired: exp stops it
    assert len(store) == 1


def test_replay_store_expired_row_not_yet_deleted_counts_as_unseen(tmp_path):
    """Expired rows are deleted once per clock second; until then an insert takes an expired row's place."""
    store = ReplayStore(Database(tmp_path / "seen.sqlite"))
    assert store.first_use("jti-0", expires_at=300, now=100)  # the clean-up of second 100 runs here
    assert store.first_use("jti-1", expires_at=50, now=100)  # expired when recorded; no clean-up until second 101
    assert store.first_use("jti-1", expires_at=400, now=100)
    assert not store.first_use("jti-1", expires_at=400, now=100)
    assert len(store) == 2


def test_database_flushes_per_commit_only_when_asked(tmp_path):
    assert Database(tmp_path / "a.sqlite").execute("PRAGMA synchronous") == [(1,)]  # NORMAL
    assert Database(tmp_path / "b.sqlite", synchronous="FULL").execute("PRAGMA synchronous") == [(2,)]
    with pytest.raises(ValueError):
        Database(tmp_path / "c.sqlite", synchronous="OFF")


def test_replay_detected_across_a_reopen_of_the_same_file(tmp_path):
    """RFC 7519 §4.1.7: a replay is refused after the party restarts, too."""
    path = tmp_path / "seen.sqlite"
    db = Database(path)
    assert ReplayStore(db, "nonces").first_use("n-1", expires_at=500, now=100)
    db.close()
    reopened = ReplayStore(Database(path), "nonces")
    assert not reopened.first_use("n-1", expires_at=500, now=101)
    assert len(reopened) == 1
    assert len(ReplayStore(Database(path), "other")) == 0  # tables are separate stores


def test_replay_store_is_atomic_across_threads(tmp_path):
    store = ReplayStore(Database(tmp_path / "seen.sqlite"))
    results: list[bool] = []
    lock = threading.Lock()

    def use():
        ok = store.first_use("same", expires_at=10**10, now=1)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_table_name_must_be_an_identifier(tmp_path):
    with pytest.raises(ValueError):
        ReplayStore(Database(tmp_path / "x.sqlite"), "seen; DROP TABLE x")


def test_database_execute(tmp_path):
    db = Database(tmp_path / "d.sqlite")
    db.execute("CREATE TABLE t (v TEXT)")
    assert db.execute_count("INSERT INTO t VALUES (?), (?)", ("a", "b")) == 2
    assert db.execute("SELECT v FROM t ORDER BY v") == [("a",), ("b",)]
    db.close()


def test_a_content_length_that_is_not_a_number_is_400(net):
    server = net.servers["as.example"]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.putrequest("POST", "/echo")
    conn.putheader("Content-Length", "many")
    conn.endheaders()
    assert conn.getresponse().status == 400
    conn.close()
