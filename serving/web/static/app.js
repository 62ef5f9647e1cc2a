// app.js: the page's wiring. Read this file first; each helper lives in its own module:
//   session.js     the protocol client (reconnects, resumes, never loses or repeats an event)
//   transcript.js  the session's events folded into runs
//   form.js        the prediction form, built from the model card
//   view.js        drawing
//
// How the page finds its session, in order:
//   1. a link: /#session=<id>&read=<token> (watch) or ...&control=<token> (full control);
//      tokens travel in the #fragment, which the browser never sends to any server;
//   2. the last session this browser used (tokens kept in localStorage), so a reload or a
//      second tab continues where you were;
//   3. a new session: the server gives a page on its own computer a one-minute token that
//      can only create sessions (POST /web/token, see serving/web/page.py).
// The address bar then shows /#session=<id>, without tokens.

import { CommandError, ConnectionState, SessionConnection, randomHex } from "./session.js";
import { PredictionForm } from "./form.js";
import { Transcript } from "./transcript.js";
import { HistoryView, RunsView, showConnection } from "./view.js";

const $ = (id) => document.getElementById(id);
const SCOPES = ["control", "write", "read"]; // strongest first
const PREDICT_AGENT = "predict";
const DEFAULT_MODEL = "penguin-classifier";

// --- who we are, which session, which tokens ---------------------------------------------

/** This tab's device name: kept for the tab's life (reloads included), new in a new tab. */
function deviceName() {
  let name = sessionStorage.getItem("device");
  if (!name) {
    name = `web-${randomHex(3)}`;
    sessionStorage.setItem("device", name);
  }
  return name;
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
    if (!response.ok) throw new Error(await errorOf(response));
    token = (await response.json()).create; // null on an open server: no token needed
  }
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch("/v1/sessions", { method: "POST", headers });
  if (response.status === 401 && localStorage.getItem("create-token")) {
    localStorage.removeItem("create-token"); // expired or from another server: ask again
    return createSession();
  }
  if (!response.ok) throw new Error(`cannot create a session: ${await errorOf(response)}`);
  const created = await response.json();
  saved.remember(created.id, created.tokens ?? {});
  return created.id;
}

async function chooseSession() {
  const link = readLink();
  if (link.create) localStorage.setItem("create-token", link.create);
  if (link.session) {
    const tokens = Object.fromEntries(SCOPES.filter((s) => link[s]).map((s) => [s, link[s]]));
    saved.remember(link.session, tokens);
    return { id: link.session, fromLink: Object.keys(tokens).length > 0 };
  }
  const last = saved.last();
  if (last) return { id: last, fromLink: false };
  return { id: await createSession(), fromLink: false };
}

async function startNewSession() {
  try {
    location.hash = `session=${await createSession()}`; // the hashchange reloads the page
  } catch (error) {
    showBanner(error.message);
  }
}

function showBanner(text) {
  $("banner").textContent = text;
  $("banner").hidden = false;
}

// --- the model ---------------------------------------------------------------------------

async function loadModels() {
  const response = await fetch("/v1/models");
  if (response.status === 404) return []; // a server started without models
  if (!response.ok) throw new Error(`cannot list the models: ${await errorOf(response)}`);
  return (await response.json()).models;
}

function describe(model) {
  const card = model.card;
  const accuracy = card.metrics?.accuracy;
  const score = accuracy === undefined ? "" : ` Test accuracy: ${(accuracy * 100).toFixed(1)}%.`;
  return `${card.description} (${model.name}, version ${model.latest}.)${score}`;
}

// --- the page ----------------------------------------------------------------------------

async function main() {
  window.addEventListener("hashchange", () => location.reload());
  const me = deviceName();
  let models;
  let session;
  try {
    models = await loadModels();
    session = await chooseSession();
  } catch (error) {
    showBanner(`The page cannot start: ${error.message}`);
    showConnection($("connection"), ConnectionState.CLOSED, null);
    return;
  }
  history.replaceState(null, "", `#session=${session.id}`);

  const tokens = saved.tokens(session.id);
  const scope = SCOPES.find((name) => tokens[name]) ?? "control"; // no token: an open server
  const can = { ask: scope !== "read", control: scope === "control" };
  const transcript = new Transcript();
  const runs = new RunsView($("runs"), me);
  const historyView = new HistoryView($("history-rows"), me);
  const preferences = JSON.parse(localStorage.getItem("preferences") ?? "{}");
  let steerInputs = new Map(); // param name -> its radio buttons

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
      const gone = [4401, 4403, 4404].includes(detail?.code);
      if (state === ConnectionState.CLOSED && gone && !session.fromLink) {
        startNewSession(); // our remembered session is gone (a new server, a wiped store)
      }
    },
  });

  /** Bring the controls in line with the transcript: Stop, steer values, who is here. */
  function refresh() {
    const active = transcript.activeRuns();
    $("stop").disabled = !can.control || active.length === 0;
    $("no-answers").hidden = transcript.runs.size > 0;
    const steered = active.filter((run) => run.agent === PREDICT_AGENT).at(-1);
    for (const [name, inputs] of steerInputs) {
      const value = steered?.params[name] ?? preferences[name];
      for (const input of inputs) input.checked = input.value === value;
    }
    const here = [...transcript.present].map((device) => (device === me ? "this tab" : device));
    $("present").textContent = here.join(", ") || "nobody";
  }

  // Links to this session for other tabs and devices.
  const base = `${location.origin}/#session=${session.id}`;
  $("watch-link").value = tokens.read ? `${base}&read=${tokens.read}` : base;
  $("control-link").value = tokens.control
    ? `${base}&read=${tokens.read}&control=${tokens.control}`
    : base;
  $("control-sharing").hidden = !can.control;
  $("loopback-note").hidden = !["127.0.0.1", "localhost", "[::1]"].includes(location.hostname);
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", () => copy($(button.dataset.copy), button));
  }
  $("new-session").addEventListener("click", startNewSession);

  // The form: from the card of the chosen model, or a plain message without models.
  $("watch-only").hidden = can.ask;
  $("prediction-form").hidden = !can.ask;
  $("steering").hidden = !can.ask;
  let form = null;
  let model = null;
  function chooseModel(name) {
    model = models.find((candidate) => candidate.name === name);
    $("model-summary").textContent = describe(model);
    form = new PredictionForm($("fields"), $("form-message"), model.card);
  }
  if (models.length) {
    const select = $("model-select");
    select.replaceChildren(...models.map((m) => new Option(m.name, m.name)));
    select.value = models.some((m) => m.name === DEFAULT_MODEL) ? DEFAULT_MODEL : models[0].name;
    select.addEventListener("change", () => chooseModel(select.value));
    $("model-choice").hidden = models.length < 2;
    chooseModel(select.value);
  } else {
    $("model-summary").textContent =
      "This server serves no model. Start it with `make serve` (it trains the course's " +
      "penguin model), or export one from notebook 06. Meanwhile, talk to the demo agent:";
    $("fields").replaceChildren(messageField());
  }

  $("prediction-form").addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const button = $("predict");
    button.disabled = true;
    try {
      if (form) await predict(connection, form, model, preferences);
      else await connection.send({ text: $("message").value });
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

  // Steer controls, from the parameters the predict agent declares (those with choices).
  steerInputs = await steerControls(session.id, tokens[scope], preferences, (name, value) => {
    preferences[name] = value;
    localStorage.setItem("preferences", JSON.stringify(preferences));
    if (!can.control) return;
    for (const run of transcript.activeRuns()) {
      if (run.agent === PREDICT_AGENT) {
        connection.steer(run.id, { [name]: value }).catch(ignoreEndedRun);
      }
    }
  });
  refresh();
  connection.connect();
}

/** Check the row with the server first: its problems show next to the fields, nothing sent. */
async function predict(connection, form, model, preferences) {
  form.clear();
  const row = form.read();
  const response = await fetch(`/v1/models/${encodeURIComponent(model.name)}/validate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(row),
  });
  const body = await response.json();
  if (response.status === 422) {
    form.show(body.error.problems);
    return;
  }
  if (!response.ok) throw new Error(body.error.message);
  form.show([], body.warnings);
  // Sent over the WebSocket: if the connection is down, it goes as soon as it is back.
  await connection.send({ model: model.name, row }, { agent: PREDICT_AGENT, params: preferences });
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

async function steerControls(sessionId, token, preferences, onChange) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(`/v1/sessions/${sessionId}`, { headers });
  const inputs = new Map();
  if (!response.ok) return inputs;
  const params = (await response.json()).agents[PREDICT_AGENT]?.params ?? {};
  const groups = [];
  for (const [name, param] of Object.entries(params)) {
    if (!param.choices) continue;
    preferences[name] ??= param.default;
    const fieldset = document.createElement("fieldset");
    fieldset.className = "choices";
    const legend = document.createElement("legend");
    legend.textContent = `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
    legend.title = param.help;
    fieldset.append(legend);
    const radios = [];
    for (const choice of param.choices) {
      const label = document.createElement("label");
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = `steer-${name}`;
      radio.value = choice;
      radio.addEventListener("change", () => onChange(name, choice));
      label.append(radio, ` ${choice}`);
      fieldset.append(label);
      radios.push(radio);
    }
    inputs.set(name, radios);
    groups.push(fieldset);
  }
  $("steer-controls").replaceChildren(...groups);
  return inputs;
}

function ignoreEndedRun(error) {
  // Two tabs pressing Stop at once: the second learns the run is already stopping or over.
  if (!(error instanceof CommandError && error.code === "run_not_active")) throw error;
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
