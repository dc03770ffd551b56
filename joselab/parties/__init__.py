"""The parties the scenarios run on: small HTTP servers on 127.0.0.1 and sqlite stores.

Every demo party is a real HTTP server on the loopback interface with an ephemeral port
(:class:`~joselab.parties.http.LocalServer`). Tokens name parties by their public ``https://`` names
(``https://as.bank.example``) as they would in production; a :class:`~joselab.parties.http.Network`
stands in for DNS and TLS by sending a request for such a name to the loopback server that plays it.
Nothing ever leaves the machine: a name the network does not know is refused, not looked up.

When the process ends (a notebook's kernel shut down before its last cell ran), every server still
running is stopped and every sqlite database still open is closed (``atexit``); a notebook's
``tempfile.TemporaryDirectory`` removes its folder then too (its finalizer). A kernel that is left
running, say when its notebook's tab is closed, keeps them until it stops.
"""

from .http import HttpResponse, LocalServer, Network, Request, Response, json_response
from .store import Database, ReplayStore

__all__ = ["Database", "HttpResponse", "LocalServer", "Network", "ReplayStore", "Request", "Response", "json_response"]


def _exit_cleanly_on_sigterm() -> None:
    """In a notebook's kernel, turn SIGTERM (what a kernel manager sends a kernel that did not stop
    when asked) into a normal exit, so that the cleanup above runs. Elsewhere, and where a handler is
    already set, the signal is left alone."""
    import signal
    import sys
    import threading

    if "ipykernel" not in sys.modules or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


_exit_cleanly_on_sigterm()
