// classroom-stream.js: follow the room's snapshots (GET /v1/classrooms/<code>/room/events,
// Server-Sent Events, docs/PROTOCOL.md "Classroom") and say where the connection stands.
//
// Why fetch and not EventSource: an EventSource cannot send an Authorization header, so the
// instructor's token would have to travel in the URL (proxy logs, browser history) or be
// traded for a ticket before every connect. fetch sends the header, and reading the body as
// it arrives is all an SSE client is. What EventSource gives for free is kept: it reconnects
// by itself after any drop (the server ends each response after a minute, a laptop's Wi-Fi
// drops more often), waiting the server's `retry:` (1 s), with jitter so that a room of
// pages does not come back in step. Nothing is lost across a reconnect: every `room` event
// is the whole snapshot, so the first one after a reconnect is the room as it is now.
//
// A connection can also die without closing (a network that vanishes): the server writes a
// keepalive comment every 15 s, so a body that stays silent for DEAD_SECONDS is dropped and
// replaced. It does no drawing: the page gives it `onSnapshot(room)` and
// `onStateChange(state, detail)`.

export const StreamState = Object.freeze({
  CONNECTING: "connecting", // the first attempt: nothing received yet
  LIVE: "live", // the server answered: snapshots arrive as the room changes
  RECONNECTING: "reconnecting", // dropped: trying again by itself
  CLOSED: "closed", // refused for good (a bad token, no such classroom): trying cannot help
});

const DEAD_SECONDS = 40; // more than two missed keepalives (the server sends one each 15 s)
const MAX_PAUSE_SECONDS = 5;

/** One text/event-stream event ({event, data, id, retry}) per blank-line-ended block. */
export function parseEvents(text) {
  const events = [];
  const blocks = text.split(/\r?\n\r?\n/);
  const rest = blocks.pop(); // an unfinished block waits for more bytes
  for (const block of blocks) {
    const event = { event: "message", data: [], id: null, retry: null };
    for (const line of block.split(/\r?\n/)) {
      if (line === "" || line.startsWith(":")) continue; // a comment: a keepalive
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") event.data.push(value);
      else if (field === "event") event.event = value;
      else if (field === "id") event.id = value;
      else if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
    }
    event.data = event.data.join("\n");
    events.push(event);
  }
  return { events, rest };
}

export class RoomStream {
  constructor({ url, token, onSnapshot, onStateChange }) {
    this.url = url;
    this.token = token;
    this.onSnapshot = onSnapshot;
    this.onStateChange = onStateChange;
    this.state = StreamState.CONNECTING;
    this.wasLive = false;
    this.reconnects = 0; // how many times it connected again after a drop
    this.retryMs = 1000; // the server's retry: field, as EventSource honours it
    this.failures = 0; // attempts in a row that got no answer: the pause grows with them
    this.controller = null;
    this.lastByteAt = 0;
    this.watchdog = null;
    this.onOnline = () => this.#reconnectNow();
  }

  start() {
    window.addEventListener("online", this.onOnline);
    this.watchdog = setInterval(() => this.#checkAlive(), 1000);
    this.#run();
  }

  stop() {
    this.#setState(StreamState.CLOSED);
    clearInterval(this.watchdog);
    window.removeEventListener("online", this.onOnline);
    this.controller?.abort();
  }

  async #run() {
    while (this.state !== StreamState.CLOSED) {
      const controller = new AbortController();
      this.controller = controller;
      this.lastByteAt = Date.now();
      try {
        const headers = { accept: "text/event-stream" };
        if (this.token) headers.authorization = `Bearer ${this.token}`;
        const response = await fetch(this.url, { headers, signal: controller.signal });
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          await this.#refused(response);
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        await this.#read(response.body.getReader());
      } catch {
        // a drop, a refused connection, the watchdog's abort: all end here, and go round
      }
      if (this.state === StreamState.CLOSED) return;
      this.#setState(this.wasLive ? StreamState.RECONNECTING : StreamState.CONNECTING);
      await this.#pause();
      this.reconnects += 1;
    }
  }

  async #read(reader) {
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return; // the server ended the response (each lasts about a minute)
      this.lastByteAt = Date.now();
      if (this.state !== StreamState.LIVE) {
        this.failures = 0;
        this.wasLive = true;
        this.#setState(StreamState.LIVE);
      }
      const { events, rest } = parseEvents(buffered + decoder.decode(value, { stream: true }));
      buffered = rest;
      for (const event of events) {
        if (event.retry !== null) this.retryMs = event.retry;
        if (event.event === "room" && event.data) this.onSnapshot(JSON.parse(event.data));
      }
    }
  }

  async #refused(response) {
    let message = `the server refused the room's stream (HTTP ${response.status})`;
    try {
      const body = await response.json();
      if (body?.error?.message) message = body.error.message;
    } catch {
      /* not JSON: the status says enough */
    }
    this.stop();
    this.#setState(StreamState.CLOSED, { status: response.status, message });
  }

  #pause() {
    // The server's retry (1 s) after a clean end; growing, with jitter, while it stays away.
    this.failures += 1;
    const base = Math.min(this.retryMs * 2 ** Math.max(0, this.failures - 2), MAX_PAUSE_SECONDS * 1000);
    const ms = base * (0.5 + Math.random() / 2);
    return new Promise((resolve) => {
      this.wake = resolve;
      setTimeout(resolve, ms);
    });
  }

  #reconnectNow() {
    // The browser says the network is back: do not sit out the pause.
    this.wake?.();
  }

  #checkAlive() {
    if (this.state === StreamState.LIVE && Date.now() - this.lastByteAt > DEAD_SECONDS * 1000) {
      this.controller?.abort(); // silent for too long: replaced by a new connection
    }
  }

  #setState(state, detail = null) {
    if (state === this.state && detail === null) return;
    this.state = state;
    this.onStateChange(state, detail);
  }
}
