"""The parties the scenarios run on: small HTTP servers on 127.0.0.1 and sqlite stores.

Every demo party is a real HTTP server on the loopback interface with an ephemeral port
(:class:`~joselab.parties.http.LocalServer`). Tokens name parties by their public ``https://`` names
(``https://as.bank.example``) as they would in production; a :class:`~joselab.parties.http.Network`
stands in for DNS and TLS by sending a request for such a name to the loopback server that plays it.
Nothing ever leaves the machine: a name the network does not know is refused, not looked up.
"""

from .http import HttpResponse, LocalServer, Network, Request, Response, json_response
from .store import Database, ReplayStore

__all__ = ["Database", "HttpResponse", "LocalServer", "Network", "ReplayStore", "Request", "Response", "json_response"]
