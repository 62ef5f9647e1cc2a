// session.js: a browser client of the session protocol (docs/PROTOCOL.md).
//
// It keeps the promises of the Python client (serving/client.py):
//   - every event of the session is delivered once, in log order, whatever happens to the
//     network: after a drop it reconnects by itself and subscribes again from the offset of
//     the last event it delivered, so the server sends exactly the events it missed;
//   - every command carries a fresh id and is resent after a reconnect until its reply
//     arrives; the server does a command once per id, so a lost reply never doubles it;
//   - while the server's store (Redis) is away, a command refused with STORE_UNAVAILABLE is
//     sent again after its retry_after, and a close with 4503 is retried like any drop
//     (only 44xx closes are final).
//
// It asks for compact deltas (protocol v1.1, deltas.js) and hands the page whole events; a
// server older than v1.1 refuses the field, and it subscribes again without it.
//
// It does no drawing: the page gives it two callbacks, `onEvent(event)` and
// `onStateChange(state, detail)`.

import { DeltaDecoder } from "./deltas.js";

/** Where the connection stands; the page shows it as the connection indicator. */
export const ConnectionState = Object.freeze({
  CONNECTING: "connecting", // the first attempt: nothing received yet
  LIVE: "live", // subscribed: events flow as they are written
  RECONNECTING: "reconnecting", // the connection dropped: trying again, with growing pauses
  OFFLINE: "offline", // the browser has no network: waiting for it to come back
  CLOSED: "closed", // refused for good (a bad token, no such session), or closed by the page
});

/** The server refused a command; `code` is the protocol's error code (e.g. run_not_active). */
export class CommandError extends Error {
  constructor(code, message, commandId = null) {
    super(`${code}: ${message}`);
    this.code = code;
    this.serverMessage = message;
    this.commandId = commandId;
  }
}

/** The connection is closed for good; `code` is the close code (4401, 4404...) if any. */
export class SessionClosed extends Error {
  constructor(message, code = null) {
    super(message);
    this.code = code;
  }
}

const HEARTBEAT_SECONDS = 10; // ask "are you there?" after this long without any frame
const ANSWER_SECONDS = 10; // no frame at all this long after asking: the connection is dead
const WORDS = new Set(["start", "new"]); // subscribe positions that are not offsets

/** A random hex string: command ids, device names (works on plain http, unlike randomUUID). */
export function randomHex(bytes = 8) {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (value) => value.toString(16).padStart(2, "0")).join("");
}

export class SessionConnection {
  /**
   * @param {object} options
   * @param {string} options.server   the server's base URL, e.g. "http://127.0.0.1:8000"
   * @param {string} options.session  the session id
   * @param {string|null} options.token  a read, write or control token (null: open server)
   * @param {string} options.device   this client's name, written in the events it causes
   * @param {string} [options.start]  "start" (the whole history), "new", or an offset
   */
  constructor({ server, session, token, device, start = "start", onEvent, onStateChange }) {
    this.server = server.replace(/\/+$/, "");
    this.session = session;
    this.token = token;
    this.device = device;
    this.onEvent = onEvent;
    this.onStateChange = onStateChange;
    this.state = ConnectionState.CONNECTING;
    this.reconnects = 0; // how many times it tried to connect again after a drop
    this.position = start; // the offset of the last event delivered (or where to start)
    this.pending = new Map(); // command id -> {payload, resolve, reject}: waiting for a reply
    this.socket = null;
    this.subscribeId = null;
    this.delay = 0.05; // seconds before the next attempt: doubles up to 2 s, as in Python
    this.retryTimer = null;
    this.heartbeatTimer = null;
    this.lastFrameAt = 0; // when the server last sent anything (Date.now())
    this.heartbeatSentAt = null; // when we asked "are you there?", until anything arrives
    this.wasLive = false; // "connecting" until the first subscription, "reconnecting" after
    this.compact = true; // ask for compact deltas until a server refuses them (an older one)
    this.deltas = new DeltaDecoder();
    this.onOnline = () => this.#networkBack();
    this.onOffline = () => this.#networkGone();
  }

  /** Open the connection; it then keeps itself open until `close()` or a refusal. */
  connect() {
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.heartbeatTimer = setInterval(() => this.#checkAlive(), 1000);
    if (navigator.onLine === false) this.#setState(ConnectionState.OFFLINE);
    else this.#open();
  }

  close() {
    this.#fail(new SessionClosed("the page closed the connection"));
  }

  // --- commands -------------------------------------------------------------------------

  /** Send a message: it starts a run of `agent`. Resolves to the ack ({run, offset}). */
  send(data, { agent, params } = {}) {
    const command = { type: "send", data };
    if (agent) command.agent = agent;
    if (params && Object.keys(params).length) command.params = params;
    return this.#command(command);
  }

  cancel(run) {
    return this.#command({ type: "cancel", run });
  }

  steer(run, params) {
    return this.#command({ type: "steer", run, params });
  }

  #command(command) {
    if (this.state === ConnectionState.CLOSED) {
      return Promise.reject(new SessionClosed("the connection is closed"));
    }
    command.id = randomHex(8);
    const payload = JSON.stringify(command);
    return new Promise((resolve, reject) => {
      this.pending.set(command.id, { payload, resolve, reject });
      // Sent now if the subscribe has gone out on an open socket; otherwise by #resume().
      if (this.#ready()) this.socket.send(payload);
    });
  }

  #ready() {
    const open = this.socket !== null && this.socket.readyState === WebSocket.OPEN;
    return open && this.subscribeId !== null;
  }

  // --- the connection -------------------------------------------------------------------

  #url() {
    const query = new URLSearchParams({ device: this.device });
    const base = this.server.replace(/^http/, "ws");
    return `${base}/v1/sessions/${this.session}/ws?${query}`;
  }

  #open() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.subscribeId = null;
    // A browser WebSocket cannot set Authorization: the token goes in Sec-WebSocket-Protocol
    // ("bearer", token), never in the URL, where access logs and proxies would keep it.
    const socket = new WebSocket(this.#url(), this.token ? ["bearer", this.token] : []);
    this.socket = socket;
    socket.onopen = () => this.#resume(socket);
    socket.onmessage = (message) => this.#receive(message.data);
    socket.onclose = (closed) => this.#closed(socket, closed.code, closed.reason);
    // onerror is always followed by onclose, which decides what to do.
  }

  /** Subscribe from the last event delivered, then resend every command still unanswered. */
  #resume(socket) {
    this.lastFrameAt = Date.now();
    this.heartbeatSentAt = null;
    this.#subscribe(socket);
    for (const { payload } of this.pending.values()) socket.send(payload);
  }

  #subscribe(socket) {
    this.subscribeId = `sub-${randomHex(4)}`;
    this.deltas = new DeltaDecoder(); // a new subscription: its first delta comes in full
    const subscribe = { type: "subscribe", id: this.subscribeId, from: this.position };
    if (this.compact) subscribe.deltas = "compact";
    socket.send(JSON.stringify(subscribe));
  }

  #receive(frame) {
    this.lastFrameAt = Date.now();
    for (const item of JSON.parse(frame)) {
      if ("session" in item) {
        this.deltas.event(item);
        this.#receiveEvent(item);
      } else if ("d" in item) this.#receiveEvent(this.deltas.item(item));
      else if (item.id === this.subscribeId) this.#subscribed(item);
      else this.#reply(item);
    }
  }

  #receiveEvent(event) {
    // Offsets of one session sort as strings in log order: one not after the last event
    // delivered is a repeat from before a reconnect, and is dropped.
    if (!WORDS.has(this.position) && event.offset <= this.position) return;
    this.position = event.offset;
    this.onEvent(event);
  }

  #subscribed(reply) {
    const refused = reply.type === "error" && reply.code === "INVALID_COMMAND";
    if (refused && this.compact && String(reply.message).includes("deltas") && this.#ready()) {
      this.compact = false; // a server older than v1.1: every event in full
      this.#subscribe(this.socket);
      return;
    }
    if (reply.type === "error") {
      this.#fail(new SessionClosed(`cannot resume: ${reply.message}`, 4400));
      return;
    }
    // Resume from here if the connection drops before any event arrives.
    if (WORDS.has(this.position)) this.position = reply.offset;
    this.delay = 0.05;
    this.wasLive = true;
    this.#setState(ConnectionState.LIVE);
  }

  #reply(reply) {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return; // the heartbeat's, or a repeat for a resent command
    if (reply.type === "error" && reply.code === "STORE_UNAVAILABLE") {
      // The server's store (Redis) is away: the command did nothing. Send it again (same id)
      // after retry_after; a reconnect meanwhile resends it anyway.
      const again = () => {
        if (this.pending.get(reply.id) === pending && this.#ready()) this.socket.send(pending.payload);
      };
      setTimeout(again, (reply.retry_after || 1) * 1000);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.type === "ack") pending.resolve(reply);
    else pending.reject(new CommandError(reply.code, reply.message, reply.id));
  }

  #closed(socket, code, reason) {
    if (socket !== this.socket) return; // an old socket, already replaced
    this.socket = null;
    this.subscribeId = null;
    if (this.state === ConnectionState.CLOSED) return;
    if (code >= 4400 && code < 4500) {
      // A client error (bad token, no such session): trying again as is cannot help.
      this.#fail(new SessionClosed(reason || `the server refused the connection (${code})`, code));
    } else if (navigator.onLine === false) {
      this.#setState(ConnectionState.OFFLINE);
    } else {
      this.#retryLater();
    }
  }

  #retryLater() {
    this.#setState(this.wasLive ? ConnectionState.RECONNECTING : ConnectionState.CONNECTING);
    const pause = this.delay * (0.5 + Math.random() / 2); // jitter: tabs do not retry in step
    this.delay = Math.min(this.delay * 2, 2);
    this.retryTimer = setTimeout(() => {
      this.reconnects += 1;
      this.#open();
    }, pause * 1000);
  }

  /** Forget the current socket at once (its close event is ignored) and act as if closed. */
  #drop() {
    const socket = this.socket;
    if (socket === null) return;
    this.socket = null;
    this.subscribeId = null;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.close();
  }

  #networkGone() {
    // The browser knows the network is gone: do not wait for the socket to notice.
    if (this.state === ConnectionState.CLOSED) return;
    clearTimeout(this.retryTimer);
    this.#drop();
    this.#setState(ConnectionState.OFFLINE);
  }

  #networkBack() {
    if (this.state !== ConnectionState.OFFLINE) return;
    this.#setState(this.wasLive ? ConnectionState.RECONNECTING : ConnectionState.CONNECTING);
    this.reconnects += 1;
    this.#open();
  }

  /**
   * About once a second (less in a background tab): a quiet connection gets a heartbeat; one
   * that sends nothing back is dead (a network can vanish without closing anything) and is
   * replaced by a new one, which resumes from the last event.
   */
  #checkAlive() {
    if (!this.#ready()) return;
    const now = Date.now();
    if (this.heartbeatSentAt !== null && this.lastFrameAt >= this.heartbeatSentAt) {
      this.heartbeatSentAt = null; // something came back: alive
    }
    if (this.heartbeatSentAt !== null && now - this.heartbeatSentAt > ANSWER_SECONDS * 1000) {
      this.#drop();
      this.#retryLater();
    } else if (this.heartbeatSentAt === null && now - this.lastFrameAt > HEARTBEAT_SECONDS * 1000) {
      this.socket.send(JSON.stringify({ type: "heartbeat", id: `hb-${randomHex(4)}` }));
      this.heartbeatSentAt = now;
    }
  }

  #fail(error) {
    if (this.state === ConnectionState.CLOSED) return;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.#drop();
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    this.#setState(ConnectionState.CLOSED, error);
  }

  #setState(state, detail = null) {
    if (state === this.state && detail === null) return;
    this.state = state;
    this.onStateChange(state, detail);
  }
}

// --- device names --------------------------------------------------------------------------
// A device name travels in every event it causes, and the server accepts 1 to 64 letters,
// digits or . _ : @ - (docs/PROTOCOL.md). A readable name such as "Chrome on Android" is
// written "Chrome_on_Android@9191f6": the tag after @ keeps two tabs of one browser apart, and
// every page shows the part before it, with spaces.

/** "Chrome on Android", "Firefox on Linux"... from a user agent string. */
export function browserName(userAgent) {
  const browsers = [
    [/Edg(A|iOS)?\//, "Edge"],
    [/OPR\/|Opera/, "Opera"],
    [/SamsungBrowser\//, "Samsung Internet"],
    [/Firefox\/|FxiOS\//, "Firefox"],
    [/Chrome\/|CriOS\//, "Chrome"],
    [/Safari\//, "Safari"],
  ];
  const systems = [
    [/Android/, "Android"],
    [/iPhone/, "iPhone"],
    [/iPad/, "iPad"],
    [/CrOS/, "ChromeOS"],
    [/Windows/, "Windows"],
    [/Macintosh|Mac OS X/, "macOS"],
    [/Linux/, "Linux"],
  ];
  const browser = browsers.find(([pattern]) => pattern.test(userAgent))?.[1] ?? "A browser";
  const system = systems.find(([pattern]) => pattern.test(userAgent))?.[1];
  return system ? `${browser} on ${system}` : browser;
}

/** The device name sent to the server for a readable `name` and this tab's `tag`. */
export function deviceId(name, tag) {
  const slug = name
    .replace(/[^A-Za-z0-9 .-]/g, "")
    .trim()
    .replace(/\s+/g, "_")
    .slice(0, 50);
  return `${slug || "device"}@${tag}`;
}

/** What a page shows for a device name: "Chrome on Android" for "Chrome_on_Android@9191f6". */
export function readableDevice(device) {
  const named = /^(.+)@[0-9a-f]{6}$/.exec(device);
  return named ? named[1].replaceAll("_", " ") : device;
}
