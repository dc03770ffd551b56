"""joselab.fetch against real local servers (http.server, and TLS with a demo CA made at run time)."""

from __future__ import annotations

import tempfile

import pytest

from joselab.errors import (
    BadResponse,
    CertificateError,
    FetchError,
    FetchTimeout,
    InsecureTransport,
    JoselabError,
    RedirectRefused,
    ResponseTooLarge,
)
from joselab.fetch import MAX_CACHE_SECONDS, MIN_CACHE_SECONDS, Fetcher, cache_lifetime, is_loopback_url
from joselab.parties.tls import Answer, DemoCA, DocumentServer

DOC = {"issuer": "https://op.example", "jwks_uri": "https://op.example/jwks"}


@pytest.fixture(scope="module")
def ca():
    with tempfile.TemporaryDirectory() as d:
        yield DemoCA(d)


@pytest.fixture(scope="module")
def tls_server(ca):
    server = DocumentServer({"/doc": Answer.json(DOC, Cache_Control="max-age=600")}, tls=ca.server_context())
    with server:
        yield server


@pytest.fixture
def http_server():
    with DocumentServer({"/doc": Answer.json(DOC)}) as server:
        yield server


# -- https: certificate verification ------------------------------------------------------------
def test_https_refused_without_the_ca(tls_server):
    with Fetcher() as f, pytest.raises(CertificateError) as err:
        f.get_json(tls_server.url("/doc"))
    assert err.value.section == "OIDC Discovery §7.1"
    assert "certificate" in err.value.check


def test_https_refused_with_another_ca(tls_server):
    with tempfile.TemporaryDirectory() as d:
        other = DemoCA(d, "another CA")
        with Fetcher(ca_bundle=other.ca_file) as f, pytest.raises(CertificateError):
            f.get_json(tls_server.url("/doc"))


def test_https_accepted_with_the_ca(ca, tls_server):
    with Fetcher(ca_bundle=ca.ca_file) as f:
        fetched = f.get_json(tls_server.url("/doc"))
    assert fetched.document == DOC
    assert fetched.status == 200 and fetched.fresh_for == 600


def test_certificate_for_another_address_refused(ca):
    # A certificate for 127.0.0.2 presented at 127.0.0.1: the name check of RFC 6125 fails.
    cert, key = ca.issue("elsewhere", ips=("127.0.0.2",))
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with DocumentServer({"/doc": Answer.json(DOC)}, tls=context) as server, Fetcher(ca_bundle=ca.ca_file) as f:
        with pytest.raises(CertificateError):
            f.get_json(server.url("/doc"))


def test_missing_ca_bundle_is_joselab_error():
    with pytest.raises(CertificateError):
        Fetcher(ca_bundle="/nonexistent/ca.pem")


# -- http: loopback only, opt-in only -------------------------------------------------------------
def test_http_refused_by_default(http_server):
    with Fetcher() as f, pytest.raises(InsecureTransport) as err:
        f.get_json(http_server.url("/doc"))
    assert "allow_loopback_http is off" in err.value.evidence
    assert http_server.hits["/doc"] == 0  # refused before any connection


def test_http_to_loopback_with_opt_in(http_server):
    with Fetcher(allow_loopback_http=True) as f:
        assert f.get_json(http_server.url("/doc")).document == DOC


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/doc",
        "http://localhost/doc",  # a name, resolved: not an IP literal
        "http://10.0.0.1/doc",
        "http://127.0.0.1.example/doc",
        "http://[::2]/doc",
    ],
)
def test_http_refused_off_loopback_even_with_opt_in(url):
    with Fetcher(allow_loopback_http=True) as f, pytest.raises(InsecureTransport) as err:
        f.get_json(url)
    assert "loopback" in err.value.check


@pytest.mark.parametrize(
    "url",
    [
        "https://xn--/x",
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "https://user:pw@127.0.0.1/x",
        "https://127.0.0.1/x#frag",
        "https:///x",
        "https://127.0.0.1:99999/",
    ],
)
def test_other_urls_refused(url):
    with Fetcher(allow_loopback_http=True) as f, pytest.raises(InsecureTransport):
        f.get_json(url)


def test_loopback_detection():
    assert (
        is_loopback_url("http://127.0.0.1:8080/x") and is_loopback_url("http://127.1.2.3/") and is_loopback_url("http://[::1]/")
    )
    assert not is_loopback_url("http://localhost/") and not is_loopback_url("http://192.168.0.1/")


# -- redirects, status, content type, size, time --------------------------------------------------
def test_redirect_refused_not_followed():
    answers = {"/doc": Answer(302, b"", {"Location": "/elsewhere"}), "/elsewhere": Answer.json(DOC)}
    with DocumentServer(answers) as server, Fetcher(allow_loopback_http=True) as f:
        with pytest.raises(RedirectRefused) as err:
            f.get_json(server.url("/doc"))
        assert "302" in err.value.evidence and "/elsewhere" in err.value.evidence
        assert server.hits["/elsewhere"] == 0


@pytest.mark.parametrize(
    ("answer", "check"),
    [
        (Answer.json({"error": "x"}, 404), "status is 200 OK"),
        (Answer(200, b"<html>hi</html>", {"Content-Type": "text/html"}), "content type"),
        (Answer(200, b'{"a":1,"a":2}', {"Content-Type": "application/json"}), "strict JSON"),
        (Answer(200, b"not json", {"Content-Type": "application/json"}), "strict JSON"),
        (Answer(200, b"\x1f\x8b", {"Content-Type": "application/json", "Content-Encoding": "gzip"}), "not compressed"),
    ],
)
def test_bad_responses(answer, check):
    with DocumentServer({"/doc": answer}) as server, Fetcher(allow_loopback_http=True) as f:
        with pytest.raises(BadResponse) as err:
            f.get_json(server.url("/doc"))
    assert check in err.value.check


def test_jwk_set_media_type_accepted():
    answer = Answer(200, b'{"keys":[]}', {"Content-Type": "application/jwk-set+json; charset=utf-8"})
    with DocumentServer({"/jwks": answer}) as server, Fetcher(allow_loopback_http=True) as f:
        assert f.get_json(server.url("/jwks")).document == {"keys": []}


def test_oversize_body_refused_by_content_length():
    big = b'{"keys":[' + b'{"kty":"oct"},' * 2000 + b'{"kty":"oct"}]}'
    with DocumentServer({"/big": Answer(200, big, {"Content-Type": "application/json"})}) as server:
        with Fetcher(allow_loopback_http=True, max_bytes=1024) as f, pytest.raises(ResponseTooLarge) as err:
            f.get_json(server.url("/big"))
    assert "Content-Length" in err.value.evidence


def test_oversize_body_refused_while_reading():
    # No Content-Length: the count of bytes read is what stops it.
    big = b'{"pad":"' + b"x" * 200_000 + b'"}'
    answer = Answer(200, big, {"Content-Type": "application/json"}, chunks=50, length=False)
    with DocumentServer({"/big": answer}) as server, Fetcher(allow_loopback_http=True, max_bytes=4096) as f:
        with pytest.raises(ResponseTooLarge) as err:
            f.get_json(server.url("/big"))
    assert "read" in err.value.evidence


def test_body_without_length_within_the_limit():
    answer = Answer(200, b'{"keys":[]}', {"Content-Type": "application/json"}, length=False)
    with DocumentServer({"/jwks": answer}) as server, Fetcher(allow_loopback_http=True) as f:
        assert f.get_json(server.url("/jwks")).document == {"keys": []}


def test_silent_server_times_out():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections, never answers
    try:
        port = listener.getsockname()[1]
        with Fetcher(allow_loopback_http=True, timeout=0.5) as f, pytest.raises(FetchTimeout):
            f.get_json(f"http://127.0.0.1:{port}/doc")
    finally:
        listener.close()


def test_connection_refused_is_fetch_error():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with Fetcher(allow_loopback_http=True) as f, pytest.raises(FetchError) as err:
        f.get_json(f"http://127.0.0.1:{port}/doc")
    assert isinstance(err.value, JoselabError)


# -- Cache-Control --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "seconds", "rule"),
    [
        ({"Cache-Control": "public, max-age=600"}, 600, "max-age=600"),
        ({"Cache-Control": "MAX-AGE=600"}, 600, "max-age=600"),
        ({"Cache-Control": "max-age=600", "Age": "100"}, 500, "Age 100"),
        ({"Cache-Control": "max-age=5"}, MIN_CACHE_SECONDS, "floor"),
        ({"Cache-Control": "max-age=31536000"}, MAX_CACHE_SECONDS, "ceiling"),
        ({"Cache-Control": "no-store"}, MIN_CACHE_SECONDS, "no-store"),
        ({"Cache-Control": "no-cache, max-age=600"}, MIN_CACHE_SECONDS, "no-cache"),
        ({}, 300, "no Cache-Control max-age"),
        ({"Cache-Control": 'max-age="600"'}, 600, "max-age=600"),  # RFC 9111 §5.2: accept the quoted form
        ({"Cache-Control": "max-age=abc"}, 300, "malformed"),
        ({"Cache-Control": "max-age=-1"}, 300, "malformed"),
    ],
)
def test_cache_lifetime(headers, seconds, rule):
    got, note = cache_lifetime(headers)
    assert got == seconds
    assert rule in note


def test_cache_headers_from_a_real_response():
    answers = {"/a": Answer.json(DOC, Cache_Control="max-age=120"), "/b": Answer.json(DOC, Cache_Control="no-store")}
    with DocumentServer(answers) as server, Fetcher(allow_loopback_http=True, min_cache=30, max_cache=90) as f:
        a, b = f.get_json(server.url("/a")), f.get_json(server.url("/b"))
    assert (a.fresh_for, b.fresh_for) == (90, 30)
    assert "ceiling" in a.cache_note and "joselab policy" in a.cache_note


def test_configuration_mistakes_fail_loudly():
    for bad in ({"timeout": 0}, {"max_bytes": 0}, {"min_cache": 10, "max_cache": 5}):
        with pytest.raises(ValueError):
            Fetcher(**bad)


# -- any header, any URL: joselab's answer or joselab's error, never another exception -------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.text(max_size=80), st.text(max_size=12))
@settings(deadline=None)
def test_cache_lifetime_is_always_within_bounds(cache_control, age):
    seconds, note = cache_lifetime({"Cache-Control": cache_control, "Age": age}, min_cache=60, max_cache=3600, default_cache=300)
    assert 60 <= seconds <= 3600 and note


_FUZZ_FETCHER = Fetcher(allow_loopback_http=True)


@given(st.one_of(st.text(max_size=120), st.from_regex(r"\Ahttps?://[^/]{0,30}(/.{0,30})?\Z")))
@settings(deadline=None)
def test_check_url_raises_only_joselab_errors(url):
    try:
        _FUZZ_FETCHER.check_url(url)
    except InsecureTransport:
        pass


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (Answer(200, b'{"a":1}', {"Content-Type": "application/json", "Content-Length": "abc"}), FetchError),
        (Answer(200, b'{"a":1}', {"Content-Type": "application/json", "Content-Length": "-5"}), FetchError),
        (Answer(200, b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"}), BadResponse),  # nesting
        (Answer(200, b'{"a":"\xff"}', {"Content-Type": "application/json"}), BadResponse),  # not UTF-8
    ],
)
def test_hostile_responses_are_joselab_errors(answer, error):
    with DocumentServer({"/doc": answer}) as server, Fetcher(allow_loopback_http=True) as f:
        with pytest.raises(error):
            f.get_json(server.url("/doc"))


def test_body_shorter_than_its_length_times_out():
    answer = Answer(200, b'{"a":1}', {"Content-Type": "application/json", "Content-Length": "100"})
    with DocumentServer({"/doc": answer}) as server, Fetcher(allow_loopback_http=True, timeout=0.5) as f:
        with pytest.raises(FetchTimeout):
            f.get_json(server.url("/doc"))
