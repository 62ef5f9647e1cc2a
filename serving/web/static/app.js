// app.js: the page's wiring. Read this file first; each helper lives in its own module:
//   session.js     the protocol client (reconnects, resumes, never loses or repeats an event)
//   transcript.js  the session's events folded into runs
//   form.js        the prediction form, built from the model card
//   card.js        the model card: intended use, limitations, scores by group
//   monitor.js     how the model is doing: drift and live metrics from the model's log
//   steering.js    the steer controls, built from the agent's parameters
//   view.js        drawing
//
// How the page finds its session, in order:
//   1. a link: /#session=<id>&read=<token> (watch) or ...&control=<token> (full control);
//      tokens travel in the #fragment, which the browser never sends to any server; a link to
//      another session than this browser's asks first (askToSwitch);
//   2. the last session this browser used (tokens kept in localStorage), so a reload or a
//      second tab continues where you were;
//   3. a new session: the server gives a page on its own computer a one-minute token that
//      can only create sessions (POST /web/token, see serving/web/page.py).
// The address bar then shows /#session=<id>, without tokens.

import { describeModel, showModelCard } from "./card.js";
import { PredictionForm } from "./form.js";
import { watchModels } from "./models.js";
import { ModelMonitor } from "./monitor.js";
import {
  CommandError,
  ConnectionState,
  SessionConnection,
  browserName,
  deviceId,
  randomHex,
  readableDevice,
} from "./session.js";
import { SteeringControls } from "./steering.js";
import { Transcript } from "./transcript.js";
import { HistoryView, RunsView, showConnection } from "./view.js";

const $ = (id) => document.getElementById(id);
const SCOPES = ["control", "write", "read"]; // strongest first
const PREDICT_AGENT = "predict";
const DEFAULT_MODEL = "penguin-classifier";

// --- who we are, which session, which tokens ---------------------------------------------

/** The name others see for this device: the user's own (kept in this browser), or "Chrome on
 * Android" from the user agent. */
function readableName() {
  return localStorage.getItem("device-name") || browserName(navigator.userAgent);
}

/** This tab's device name: the readable name, and a tag kept for the tab's life (reloads
 * included), new in a new tab, so that two tabs are two devices. */
function deviceName() {
  let tag = sessionStorage.getItem("device-tag");
  if (!tag) {
    tag = randomHex(3);
    sessionStorage.setItem("device-tag", tag);
  }
  const device = deviceId(readableName(), tag);
  sessionStorage.setItem("device", device); // as the server logs it (tests read it here)
  return device;
}

/** Opened without a link on another device: this page cannot start a session by itself. */
class NeedsLink extends Error {
  constructor() {
    super(
      "This device needs a link to join: open the page on the computer that runs the " +
        "server, and scan the QR code in its card 'This session, elsewhere'.",
    );
  }
}

const saved = {
  tokens: (id) => JSON.parse(localStorage.getItem(`session:${id}`) ?? "{}"),
  remember(id, tokens) {
    localStorage.setItem(`session:${id}`, JSON.stringify({ ...saved.tokens(id), ...tokens }));
    localStorage.setItem("last-session", id);
  },
  last: () => localStorage.getItem("last-session"),
};

function readLink() {
  const params = new URLSearchParams(location.hash.slice(1));
  const link = {};
  for (const key of ["session", "create", ...SCOPES]) {
    if (params.get(key)) link[key] = params.get(key);
  }
  return link;
}

/** The server's error message from a failed response (see docs/PROTOCOL.md, errors). */
async function errorOf(response) {
  try {
    return (await response.json()).error.message;
  } catch {
    return `the server answered ${response.status}`;
  }
}

async function createSession() {
  let token = localStorage.getItem("create-token"); // from a /#create=<token> link
  if (!token) {
    const response = await fetch("/web/token", { method: "POST" });
    if (response.status === 403) throw new NeedsLink(); // not this computer: see showJoinPage
    if (!response.ok) throw new Error(await errorOf(response));
    token = (await response.json()).create; // null on an open server: no token needed
  }
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch("/v1/sessions", { method: "POST", headers });
  if (response.status === 401 && localStorage.getItem("create-token")) {
    localStorage.removeItem("create-token"); // expired, or from another server: ask again
    return createSession();
  }
  if (!response.ok) throw new Error(`cannot create a session: ${await errorOf(response)}`);
  const created = await response.json();
  saved.remember(created.id, created.tokens ?? {});
  return created.id;
}

/** The "How the model is doing" view, with a token that reads the models' logs: the server
 * gives one to a page on its own computer (POST /web/token?models=1); elsewhere the view says
 * where to look instead. */
async function modelMonitor() {
  const view = $("health");
  let token = null;
  try {
    const response = await fetch("/web/token?models=1", { method: "POST" });
    if (!response.ok) throw new Error(await errorOf(response));
    token = (await response.json()).models ?? null; // null on an open server: none needed
  } catch {
    view.querySelector(".monitor-status").textContent =
      "How the model is doing (drift, live metrics) shows on the computer that runs the " +
      "server: its log is for the operator.";
    return null;
  }
  return new ModelMonitor(view, token);
}

async function chooseSession() {
  const link = readLink();
  if (link.create) localStorage.setItem("create-token", link.create);
  if (link.session) {
    const tokens = Object.fromEntries(SCOPES.filter((s) => link[s]).map((s) => [s, link[s]]));
    const current = saved.last();
    if (current && current !== link.session && !(await askToSwitch(link.session, tokens))) {
      return { id: current, fromLink: false }; // the link changed nothing: not even "last"
    }
    saved.remember(link.session, tokens);
    return { id: link.session, fromLink: Object.keys(tokens).length > 0 };
  }
  const last = saved.last();
  if (last) return { id: last, fromLink: false };
  return { id: await createSession(), fromLink: false };
}

/** A link names another session than the one this browser is in: moving the page there (and
 * making it the session a reload comes back to) is the user's choice, not the link's. Resolves
 * true to open the linked session, false to stay. */
function askToSwitch(linked, tokens) {
  const power = tokens.control
    ? "with full control (ask, stop and steer)"
    : tokens.write
      ? "to ask questions"
      : tokens.read
        ? "to watch"
        : "";
  $("switch-text").textContent =
    `This link opens session ${linked.slice(0, 8)}… ${power}. This page is in session ` +
    `${saved.last().slice(0, 8)}…; if you open the link, your session stays saved on this ` +
    "browser, and its own link brings you back.";
  $("switch").hidden = false;
  return new Promise((resolve) => {
    const choose = (open) => () => {
      $("switch").hidden = true;
      resolve(open);
    };
    $("switch-open").addEventListener("click", choose(true), { once: true });
    $("switch-stay").addEventListener("click", choose(false), { once: true });
  });
}

async function startNewSession() {
  try {
    location.hash = `session=${await createSession()}`; // the hashchange reloads the page
  } catch (error) {
    showBanner(error.message);
  }
}

/** The session this browser remembered is gone (a wiped store, another server's secret). */
function replaceLostSession(closed) {
  const last = Number(sessionStorage.getItem("replaced-lost-session-at") ?? 0);
  if (Date.now() - last < 10_000) {
    // Just did that, and it failed again: say so rather than loop.
    showBanner(`The session cannot be opened: ${closed.message}`);
    return;
  }
  sessionStorage.setItem("replaced-lost-session-at", String(Date.now()));
  startNewSession();
}

function showBanner(text) {
  $("banner").textContent = text;
  $("banner").hidden = false;
}

/** The session token the page reads the model catalog with (GET /v1/models*: on a secured
 * server a session's read token is enough, docs/MODELS.md); none on an open server. */
let catalogHeaders = {};

async function loadModels() {
  const response = await fetch("/v1/models", { headers: catalogHeaders });
  if (response.status === 404) return []; // a server started without models
  if (!response.ok) throw new Error(`cannot list the models: ${await errorOf(response)}`);
  return (await response.json()).models;
}

async function agentParams(sessionId, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(`/v1/sessions/${sessionId}`, { headers });
  if (!response.ok) return {};
  return (await response.json()).agents[PREDICT_AGENT]?.params ?? {};
}

// --- the page ----------------------------------------------------------------------------

async function main() {
  window.addEventListener("hashchange", () => location.reload());
  const me = deviceName();
  let models;
  let session;
  try {
    session = await chooseSession();
    const held = saved.tokens(session.id);
    const reader = held.read ?? held.write ?? held.control;
    catalogHeaders = reader ? { authorization: `Bearer ${reader}` } : {};
    models = await loadModels();
  } catch (error) {
    if (error instanceof NeedsLink) {
      showJoinPage();
      return;
    }
    showBanner(`The page cannot start: ${error.message}`);
    showConnection($("connection"), ConnectionState.CLOSED, null);
    return;
  }
  history.replaceState(null, "", `#session=${session.id}`);
  $("page").hidden = false;

  const tokens = saved.tokens(session.id);
  const scope = SCOPES.find((name) => tokens[name]) ?? "control"; // no token: an open server
  const can = { ask: scope !== "read", control: scope === "control" };
  const transcript = new Transcript();
  const runs = new RunsView($("runs"), me);
  runs.cardOf = (name) => models.find((m) => m.name === name)?.card; // labels, units, metrics
  const historyView = new HistoryView($("history-rows"), me);
  let steering = null;

  const connection = new SessionConnection({
    server: location.origin,
    session: session.id,
    token: tokens[scope] ?? null,
    device: me,
    onEvent(event) {
      const change = transcript.apply(event);
      historyView.append(event);
      if (change.run) runs.update(change);
      refresh();
    },
    onStateChange(state, detail) {
      showConnection($("connection"), state, detail);
      $("connection").dataset.reconnects = connection.reconnects;
      const lost = [4401, 4403, 4404].includes(detail?.code);
      if (state === ConnectionState.CLOSED && lost && !session.fromLink) {
        replaceLostSession(detail);
      }
    },
  });

  /** Bring the controls in line with the transcript: Stop, steer values, who is here. */
  function refresh() {
    const active = transcript.activeRuns();
    $("stop").disabled = !can.control || active.length === 0;
    $("no-answers").hidden = transcript.runs.size > 0;
    steering?.show(active.filter((run) => run.agent === PREDICT_AGENT).at(-1));
    const here = [...transcript.present].map((device) =>
      device === me ? "this tab" : readableDevice(device),
    );
    $("present").textContent = here.join(", ") || "nobody";
  }

  await showLinks(session.id, tokens, can);
  showDeviceName();
  $("new-session").addEventListener("click", startNewSession);
  $("watch-only").hidden = can.ask;
  $("prediction-form").hidden = !can.ask;
  $("steering").hidden = !can.ask;

  // The form: from the card of the chosen model, or a plain message when there is no model.
  let form = null;
  let model = null;
  const monitor = await modelMonitor();
  function chooseModel(name) {
    model = models.find((candidate) => candidate.name === name);
    $("model-summary").textContent = describeModel(model);
    showModelCard($("model-card"), model.card);
    form = new PredictionForm($("fields"), $("form-message"), model.card);
    monitor?.watch(model);
  }
  if (models.length) {
    const select = $("model-select");
    select.replaceChildren(...models.map((m) => new Option(m.name, m.name)));
    select.value = models.some((m) => m.name === DEFAULT_MODEL) ? DEFAULT_MODEL : models[0].name;
    select.addEventListener("change", () => chooseModel(select.value));
    $("model-choice").hidden = models.length < 2;
    chooseModel(select.value);
    // Models exported while the server runs join the list; the chosen one is kept (its form
    // is rebuilt only if it got a new version or another version went live).
    watchModels(models, catalogHeaders, (fresh) => {
      const chosen = select.value;
      const was = `${model?.latest}:${model?.live}`;
      models = fresh;
      select.replaceChildren(...models.map((m) => new Option(m.name, m.name)));
      select.value = models.some((m) => m.name === chosen) ? chosen : models[0].name;
      $("model-choice").hidden = models.length < 2;
      const now = models.find((m) => m.name === select.value);
      if (select.value !== chosen || `${now.latest}:${now.live}` !== was) chooseModel(select.value);
    });
  } else {
    $("model-summary").textContent =
      "This server serves no model. Start it with 'make serve' (it trains the course's " +
      "penguin model), or export one from notebook 06. Meanwhile, talk to the demo agent:";
    $("fields").replaceChildren(messageField());
  }

  $("prediction-form").addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const button = $("predict");
    button.disabled = true;
    try {
      const sent = form
        ? await predict(connection, form, model, steering?.preferences ?? {})
        : await connection.send({ text: $("message").value });
      if (sent) revealAnswer(sent.run);
    } catch (error) {
      $("form-message").textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });

  $("stop").addEventListener("click", () => {
    for (const run of transcript.activeRuns()) {
      connection.cancel(run.id).catch(ignoreEndedRun);
    }
  });

  const params = await agentParams(session.id, tokens[scope]);
  steering = new SteeringControls($("steer-controls"), params, (name, value) => {
    const steered = transcript.activeRuns().filter((run) => run.agent === PREDICT_AGENT);
    const sent = can.control ? steered.map((run) => connection.steer(run.id, { [name]: value })) : [];
    return Promise.allSettled(sent);
  });
  $("steering-help").hidden = steering.radios.size === 0;
  refresh();
  connection.connect();
}

/** Check the row with the server first: its problems show next to the fields, nothing sent. */
async function predict(connection, form, model, params) {
  form.clear();
  const row = form.read();
  let response;
  try {
    response = await fetch(`/v1/models/${encodeURIComponent(model.name)}/validate`, {
      method: "POST",
      headers: { "content-type": "application/json", ...catalogHeaders },
      body: JSON.stringify(row),
    });
  } catch {
    throw new Error("Cannot reach the server to check the values: try again once it is back.");
  }
  const body = await response.json();
  if (response.status === 422) {
    form.show(body.error.problems);
    return;
  }
  if (!response.ok) throw new Error(body.error.message);
  form.show([], body.warnings);
  // Over the WebSocket: if the connection drops now, it is sent again once it is back,
  // with the same id, and the server does it once.
  return await connection.send({ model: model.name, row }, { agent: PREDICT_AGENT, params });
}

function messageField() {
  const wrapper = document.createElement("div");
  wrapper.className = "field";
  const label = document.createElement("label");
  label.htmlFor = "message";
  label.textContent = "Message";
  const input = document.createElement("textarea");
  input.id = "message";
  input.required = true;
  input.value = "Tell me how a durable session survives a dropped connection";
  wrapper.append(label, input);
  return wrapper;
}

/**
 * The answer to a question just asked, scrolled into view once the page shows it: on a phone
 * the answers are below the form, out of sight, and Predict would seem to do nothing.
 */
function revealAnswer(runId) {
  const deadline = Date.now() + 10_000;
  const look = () => {
    const answer = document.querySelector(`[data-run="${CSS.escape(runId)}"]`);
    if (answer === null) {
      if (Date.now() < deadline) requestAnimationFrame(look);
      return;
    }
    const { top, bottom } = answer.getBoundingClientRect();
    if (top < 0 || bottom > window.innerHeight) {
      const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
      answer.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
    }
  };
  look();
}

/** The plain address on another device: say how to join, instead of a half-loaded page. */
function showJoinPage() {
  $("join").hidden = false;
  $("page").hidden = true;
  $("connection").hidden = true;
  document.title = "Join a session · ML course kit";
}

/** The name others see for this device, which the user may change (kept in this browser). */
function showDeviceName() {
  const input = $("device-name");
  input.value = readableName();
  input.placeholder = browserName(navigator.userAgent);
  input.addEventListener("change", () => {
    const name = input.value.trim();
    if (name && name !== browserName(navigator.userAgent)) {
      localStorage.setItem("device-name", name);
    } else {
      localStorage.removeItem("device-name");
    }
    location.reload(); // the name travels in the connection's address: connect again
  });
}

/**
 * The share link as a QR code, so a phone's camera opens this session. The server draws it
 * (POST /web/qr: the link, with its tokens, goes in the body, never in a URL), the page parses
 * the SVG (no innerHTML). Shown when the link names an address other devices can reach: the
 * server's --lan address when this page is on 127.0.0.1.
 */
async function showQrCode(link) {
  const response = await fetch("/web/qr", { method: "POST", body: link });
  if (!response.ok) return;
  const svg = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
  const code = document.importNode(svg.documentElement, true);
  code.setAttribute("role", "img");
  code.setAttribute("aria-label", "QR code of the link to this session");
  $("qr-code").replaceChildren(code);
  $("qr-code").dataset.link = link;
  $("share-qr").hidden = false;
}

/** Where other devices reach this server: the --lan address, or this page's own. */
async function sharedOrigin() {
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(location.hostname);
  if (!loopback) return location.origin;
  try {
    const response = await fetch("/web/lan");
    return (await response.json()).origin ?? null;
  } catch {
    return null;
  }
}

/** The links that open this session elsewhere: read-only, and (for controllers) control. */
async function showLinks(sessionId, tokens, can) {
  const origin = await sharedOrigin();
  const base = `${origin ?? location.origin}/#session=${sessionId}`;
  $("watch-link").value = tokens.read ? `${base}&read=${tokens.read}` : base;
  $("control-link").value = tokens.control
    ? `${base}&read=${tokens.read}&control=${tokens.control}`
    : base;
  $("control-sharing").hidden = !can.control;
  $("loopback-note").hidden = origin !== null;
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", () => copy($(button.dataset.copy), button));
  }
  if (origin !== null) {
    // The terminal's QR code under make serve LAN=1 is the control link: the same here.
    const link = can.control ? $("control-link").value : $("watch-link").value;
    showQrCode(link).catch(() => {}); // a page without its QR code still works
  }
}

function ignoreEndedRun(error) {
  // Two tabs pressing Stop at once: the second learns the run is already stopping or over.
  if (!(error instanceof CommandError && error.code === "RUN_NOT_ACTIVE")) throw error;
}

async function copy(input, button) {
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => (button.textContent = "Copy"), 2000);
}

main();
