// classroom-me.js: a learner's tiny classroom page. Two things, both over plain HTTP with
// the learner's token in an Authorization header (docs/PROTOCOL.md "Classroom"):
//
//   - the instructor's messages to this learner (and to everyone), live: a long-poll of
//     GET /v1/classrooms/<code>/inbox?after=<next>&wait=25 that starts again from the last
//     `next` after any failure, so a message is shown once, whatever the Wi-Fi does;
//   - "Raise my hand": POST /v1/classrooms/<code>/events with one hand event, as an
//     idempotent producer. The request that was sent is kept in localStorage (with its
//     Producer-Seq) until the server answers 200 (stored) or 204 (already stored: a retry),
//     and sent again as it was (same seq, same body) after a drop or a reload, so a click
//     counts once. The page is its own producer (`<learner>/page`), next to the notebook's
//     (`<learner>`): each keeps its own sequence, and neither fences the other.

import { errorMessage, displayCode, pageCode, takeToken, tokenClaims } from "./classroom-token.js";

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const WAIT_SECONDS = 25; // the server holds a long-poll up to 30 s
const MAX_PAUSE_MS = 5000;

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting… (messages sent meanwhile arrive when it is back)",
  closed: "Disconnected",
};

function showConnection(state, message = null) {
  const node = $("connection");
  if (node.dataset.state === state && !message) return;
  node.dataset.state = state;
  node.querySelector(".label").textContent = message ? `Disconnected: ${message}` : CONNECTION_TEXT[state];
}

function banner(text) {
  $("banner").textContent = text;
  $("banner").hidden = false;
}

/** Where the inbox stands, and the messages shown (by offset: each once). */
class Inbox {
  constructor(base, token, list) {
    this.base = base;
    this.token = token;
    this.list = list;
    this.next = null;
    this.shown = new Set();
    this.reconnects = 0;
  }

  async follow() {
    let failures = 0;
    let live = false;
    for (;;) {
      // Catch up at once first (and after a failure), so "live" shows as soon as it is
      // true; then long-poll: a request held by the server is a live connection.
      const query = new URLSearchParams({ wait: String(live ? WAIT_SECONDS : 0) });
      if (this.next !== null) query.set("after", String(this.next));
      let response;
      try {
        response = await fetch(`${this.base}/inbox?${query}`, { headers: auth(this.token) });
      } catch {
        response = null; // the network: try again
      }
      if (response && response.status >= 400 && response.status < 500 && response.status !== 429) {
        showConnection("closed", await errorMessage(response, `HTTP ${response.status}`));
        return;
      }
      if (!response || !response.ok) {
        if (live) this.reconnects += 1;
        live = false;
        $("connection").dataset.reconnects = String(this.reconnects);
        showConnection(this.reconnects ? "reconnecting" : "connecting");
        failures += 1;
        const pause = Math.min(500 * 2 ** Math.min(failures, 4), MAX_PAUSE_MS);
        await sleep(pause * (0.5 + Math.random() / 2));
        continue;
      }
      failures = 0;
      live = true;
      showConnection("live");
      const answer = await response.json();
      for (const message of answer.messages) this.#show(message);
      this.next = answer.next;
    }
  }

  #show(message) {
    const key = String(message.offset);
    if (this.shown.has(key)) return;
    this.shown.add(key);
    $("no-messages").hidden = true;
    const item = document.createElement("li");
    item.dataset.offset = key;
    item.dataset.kind = message.kind;
    const meta = document.createElement("span");
    meta.className = "meta";
    const when = message.ts ? new Date(message.ts * 1000).toLocaleTimeString() : "";
    meta.textContent = `${message.kind === "hint" ? "Hint" : "Message"} ${message.to ? "to you" : "to everyone"} · ${when}`;
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = message.text;
    item.append(meta, text);
    this.list.prepend(item); // the newest first: the one to read is at the top
  }
}

function auth(token) {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The page's idempotent producer: its state and the request in flight survive a reload. */
export class HandProducer {
  constructor(base, token, producerId, storage = localStorage) {
    this.base = base;
    this.token = token;
    this.id = producerId;
    this.storage = storage;
    this.key = `classroom-producer:${producerId}`;
    const saved = JSON.parse(storage.getItem(this.key) ?? "null");
    // A new producer starts a new epoch: seconds now, above any epoch this id used before
    // (a cleared storage must not reuse (epoch, seq) pairs the server has seen: a new request
    // would be taken for a retry and dropped).
    this.state = saved ?? { epoch: Math.floor(Date.now() / 1000), seq: 0, pending: null, raised: false };
    this.busy = null;
  }

  #save() {
    this.storage.setItem(this.key, JSON.stringify(this.state));
  }

  get raised() {
    return this.state.raised;
  }

  /** Send a hand event; resolves once the server has it (retries while it cannot be reached).
   * Rejects only on a refusal that trying again cannot fix (its message says why). */
  async hand(raised, text) {
    await this.busy; // one request in flight: the seqs stay in order
    const event = { type: "hand", raised, text, at: Date.now() / 1000 };
    this.state.pending = { body: JSON.stringify([event]), raised };
    this.#save();
    this.busy = this.flush();
    return this.busy;
  }

  /** Send again the request a reload interrupted (same seq, same body). */
  resume() {
    this.busy = this.flush();
    return this.busy;
  }

  /** Send the request kept in storage, if any, until it is delivered. */
  async flush() {
    let failures = 0;
    while (this.state.pending) {
      let response = null;
      try {
        response = await fetch(`${this.base}/events`, {
          method: "POST",
          headers: {
            ...auth(this.token),
            "content-type": "application/json",
            "producer-id": this.id,
            "producer-epoch": String(this.state.epoch),
            "producer-seq": String(this.state.seq),
          },
          body: this.state.pending.body,
        });
      } catch {
        response = null;
      }
      if (response && (response.status === 200 || response.status === 204)) {
        this.state.raised = this.state.pending.raised;
        this.state.pending = null;
        this.state.seq += 1;
        this.#save();
        return;
      }
      if (response && (response.status === 403 || response.status === 409)) {
        const message = await errorMessage(response, "");
        if (response.status === 409 || /epoch/i.test(message)) {
          // Another tab of this page, or storage from before: start a new epoch, seq 0.
          this.state.epoch = Math.max(this.state.epoch + 1, Math.floor(Date.now() / 1000));
          this.state.seq = 0;
          this.#save();
          continue;
        }
        this.#drop();
        throw new Error(message || `HTTP ${response.status}`);
      }
      if (response && response.status >= 400 && response.status < 500 && response.status !== 429) {
        this.#drop();
        throw new Error(await errorMessage(response, `HTTP ${response.status}`));
      }
      failures += 1; // the network, or the server is busy: the same request again, later
      await sleep(Math.min(500 * 2 ** Math.min(failures, 4), MAX_PAUSE_MS));
    }
  }

  #drop() {
    this.state.pending = null;
    this.#save();
  }
}

function showHand(producer, sending = false) {
  const button = $("hand");
  button.dataset.raised = String(producer.raised);
  button.disabled = sending;
  const label = producer.raised ? " Lower my hand" : " Raise my hand";
  const symbol = document.createElement("span");
  symbol.setAttribute("aria-hidden", "true");
  symbol.textContent = "☝";
  button.replaceChildren(symbol, label);
}

function main() {
  const code = pageCode();
  if (!code) {
    banner("This address names no classroom: open the page link your join printed.");
    return;
  }
  $("join-code").textContent = displayCode(code);
  const token = takeToken(code, "learner", localStorage);
  if (!token) {
    banner(
      "This page needs your link: in your notebook, run course.classroom.status() and open " +
        "the page link it shows.",
    );
    showConnection("closed", "no learner link");
    return;
  }
  const base = `/v1/classrooms/${encodeURIComponent(code)}`;
  const learner = tokenClaims(token).sub ?? "learner";
  const producer = new HandProducer(base, token, `${learner}/page`);
  showHand(producer);

  const status = $("hand-status");
  const send = async (raised, text, again = false) => {
    showHand(producer, true);
    status.dataset.kind = "";
    status.textContent = raised ? "Raising your hand…" : "Lowering your hand…";
    try {
      await (again ? producer.resume() : producer.hand(raised, text));
      status.textContent = raised
        ? "Your hand is up: your instructor sees it now."
        : "Your hand is down.";
      status.dataset.kind = "sent";
      if (!raised) $("hand-text").value = "";
    } catch (error) {
      status.textContent = `Not sent: ${error.message}`;
      status.dataset.kind = "error";
    } finally {
      showHand(producer);
    }
  };
  $("hand-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send(!producer.raised, producer.raised ? "" : $("hand-text").value.trim());
  });
  if (producer.state.pending) {
    // A reload while a hand was on its way: send the very same request again.
    send(producer.state.pending.raised, "", true);
  }

  new Inbox(base, token, $("messages")).follow();
}

main();
