"""The page's credentials in Chromium (issue 17 item 3): its WebSocket carries the token in
``Sec-WebSocket-Protocol``, never in the URL; an ``EventSource`` reads a session with a ticket;
a share link still opens the session; and the server's log (``--access-log``) holds no token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from serving.tokens import TokenSigner
from tests.serving.test_redaction import logged_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.timeout(120)

WAIT_MS = 20_000

EVENT_SOURCE_WITH_A_TICKET = """async ([session, token]) => {
  const answer = await fetch("/v1/tickets", {
    method: "POST", headers: { authorization: `Bearer ${token}` } });
  const { ticket } = await answer.json();
  const url = `/v1/sessions/${session}/events?device=sse-tab&access_token=${ticket}`;
  return await new Promise((resolve, reject) => {
    const source = new EventSource(url);
    source.onmessage = (message) => { source.close(); resolve(JSON.parse(message.data).type); };
    source.onerror = () => { source.close(); reject(new Error("EventSource failed")); };
  });
}"""


def test_the_page_keeps_tokens_out_of_urls_and_logs(
    browser: Any,
    logged_server: tuple[str, Path, TokenSigner],  # noqa: F811
) -> None:
    url, log, _ = logged_server
    sockets: list[str] = []
    context = browser.new_context()
    page = context.new_page()
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(f"{url}/")
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    link = urlsplit(page.input_value("#control-link")).fragment
    tokens = {key: values[0] for key, values in parse_qs(link).items()}
    session = tokens.pop("session")
    assert set(tokens) >= {"read", "control"}
    assert sockets and all("access_token" not in socket for socket in sockets), sockets
    first = page.evaluate(EVENT_SOURCE_WITH_A_TICKET, [session, tokens["read"]])
    assert first in ("session.created", "presence.joined")  # where SSE starts: live events
    # A watch link opened elsewhere (another browser profile) still joins the session.
    watcher = browser.new_context().new_page()
    watcher.on("websocket", lambda ws: sockets.append(ws.url))
    watcher.goto(page.input_value("#watch-link").replace("http://127.0.0.1", "http://localhost"))
    watcher.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    assert len(sockets) >= 2 and all("access_token" not in socket for socket in sockets)
    context.close()
    printed = log.read_text()
    for token in tokens.values():
        assert token.rsplit(".", 1)[1] not in printed, printed
    assert "WebSocket /v1/sessions/" in printed  # uvicorn's info lines were on
