"""A notebook's kernel that stops before its last cell (the reader closed the tab, then shut the
kernel down) leaves no demo server listening and no sqlite folder behind."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

SETUP = """
import json, tempfile
from pathlib import Path
from joselab.parties import Database, LocalServer, Network, ReplayStore
network = Network()
server = LocalServer("as.bank.example", network)
server.serve_json("/jwks", {"keys": []})
network.start()
workdir = tempfile.TemporaryDirectory()
store = ReplayStore(Database(Path(workdir.name) / "as.sqlite"))
store.first_use("jti-1", 2_000_000_000, 1_767_225_600)
print(json.dumps({"port": server.port, "folder": workdir.name, "fetched": network.get_json("https://as.bank.example/jwks")}))
"""


def _run(client, code: str) -> str:
    out: list[str] = []

    def hook(msg):
        if msg["header"]["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["header"]["msg_type"] == "error":
            out.append("\n".join(msg["content"]["traceback"]))

    reply = client.execute_interactive(code, output_hook=hook, timeout=60)
    assert reply["content"]["status"] == "ok", "".join(out)
    return "".join(out)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("how", ["shutdown_request", "sigterm"])
def test_a_stopped_kernel_leaves_no_server_and_no_folder(how):
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        started = json.loads(_run(client, SETUP).strip().splitlines()[-1])
        port, folder = started["port"], Path(started["folder"])
        assert started["fetched"] == {"keys": []}  # a real server answered, over HTTP
        assert _listening(port) and (folder / "as.sqlite").exists()
    finally:
        client.stop_channels()
        if how == "sigterm":
            manager.signal_kernel(15)  # what a kill or a closing terminal sends
            manager.finish_shutdown(waittime=30)
            manager.cleanup_resources()
        else:
            manager.shutdown_kernel(now=False)  # JupyterLab's "Shut Down Kernel"
    assert not _listening(port)
    assert not folder.exists(), sorted(p.name for p in folder.iterdir())
