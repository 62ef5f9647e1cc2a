// view.js: drawing the connection indicator, the runs and the history of the session.
//
// Everything drawn here comes from transcript.js (the session's events, folded); the view
// only turns it into HTML. A run is redrawn piece by piece as its events arrive; the streamed
// explanation grows one <span> per token, each marked with its event's offset, so anyone (or
// a test) can check that no token is missing or shown twice.

import { ConnectionState, SessionClosed, readableDevice } from "./session.js";
import { RunStatus } from "./transcript.js";
import { metricsText, roundValue, titleOf } from "./card.js";

const CONNECTION_TEXT = {
  [ConnectionState.CONNECTING]: "Connecting…",
  [ConnectionState.LIVE]: "Live",
  [ConnectionState.RECONNECTING]: "Reconnecting… (the answer goes on on the server)",
  [ConnectionState.OFFLINE]: "Offline: resumes where it left off when the network is back",
  [ConnectionState.CLOSED]: "Disconnected",
};

export function showConnection(element, state, detail) {
  element.dataset.state = state;
  let text = CONNECTION_TEXT[state];
  if (state === ConnectionState.CLOSED && detail instanceof SessionClosed) {
    text = `Disconnected: ${detail.message}`;
  }
  element.querySelector(".label").textContent = text;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function timeOf(ts) {
  return ts ? new Date(ts * 1000).toLocaleTimeString() : "";
}

/** A value as a person reads it: yes/no for booleans, "unknown" for a missing value. */
function shown(value) {
  if (value === null || value === undefined) return "unknown";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

function percent(probability) {
  const value = probability * 100;
  return value > 99.9 ? ">99.9%" : value < 0.1 ? "<0.1%" : `${value.toFixed(1)}%`;
}

/** The runs of the session, newest first; each run is one <li> updated in place. */
export class RunsView {
  /** @param {HTMLElement} list  an <ol>; @param {string} me  this tab's device name */
  constructor(list, me) {
    this.list = list;
    this.me = me;
    this.items = new Map(); // run id -> the run's elements
    this.cardOf = () => undefined; // model name -> its card, for labels, units and metrics
  }

  who(device) {
    if (!device) return "someone";
    return device === this.me ? "this tab" : readableDevice(device);
  }

  /** Redraw what `change` (from Transcript.apply) touched. */
  update(change) {
    const { run, what } = change;
    const item = this.items.get(run.id) ?? this.#create(run);
    switch (what) {
      case "message":
        this.#request(item, run);
        break;
      case "token":
        if (change.own) {
          const token = element("span", "token", change.text);
          token.dataset.offset = change.offset;
          item.explanation.append(token);
        } else {
          this.#subagents(item, run);
        }
        break;
      case "prediction":
        this.#prediction(item, run);
        this.#subagents(item, run);
        break;
      case "progress":
        this.#progress(item, run);
        break;
      case "control":
        this.#control(item, run.controls[run.controls.length - 1]);
        break;
      default:
        break;
    }
    this.#status(item, run);
  }

  #create(run) {
    const root = element("li", "run");
    root.dataset.run = run.id;
    const head = element("p", "run-head");
    const who = element("span", "who");
    const time = element("time", "when");
    const status = element("span", "status");
    head.append(who, " ", time, " ", status);
    const request = element("p", "request");
    const prediction = element("div", "prediction");
    const progress = element("progress", "progress");
    progress.hidden = true;
    const subagents = element("div", "subagents");
    // aria-live: screen readers read the explanation as it streams, without moving focus.
    const explanation = element("p", "explanation");
    explanation.setAttribute("aria-live", "polite");
    const controls = element("ul", "controls-log");
    const ending = element("p", "ending");
    root.append(head, request, prediction, progress, subagents, explanation, controls, ending);
    this.list.prepend(root);
    const item = { root, who, time, status, request, prediction, progress, subagents };
    Object.assign(item, { explanation, controls, ending });
    this.items.set(run.id, item);
    return item;
  }

  #request(item, run) {
    item.who.textContent = `${this.who(run.device)} asked`;
    item.time.textContent = timeOf(run.sentAt);
    const data = run.request ?? {};
    if (data.row && typeof data.row === "object") {
      const features = new Map((this.cardOf(data.model)?.features ?? []).map((f) => [f.name, f]));
      item.request.textContent = Object.entries(data.row)
        .map(([name, value]) => `${titleOf(features.get(name) ?? { name })}: ${shown(value)}`)
        .join(" · ");
    } else if (typeof data.text === "string") {
      item.request.textContent = data.text;
    } else {
      item.request.textContent = JSON.stringify(data);
    }
  }

  #prediction(item, run) {
    const data = run.prediction;
    if (!data) return;
    item.prediction.replaceChildren();
    const card = this.cardOf(data.model);
    if ("prediction" in data) {
      const answer = element("p", "answer");
      const target = titleOf(card?.target);
      const regression = typeof data.prediction === "number" && !Array.isArray(data.classes);
      const value = regression ? roundValue(data.prediction) : shown(data.prediction);
      answer.append(target ? `Prediction: ${target}: ` : "Prediction: ", element("strong", "", value));
      const mae = card?.metrics?.mae;
      if (regression && typeof mae === "number") {
        // The answer with its error: a learner reads "161 give or take 43", not "161.04305".
        answer.append(` (typically off by about ${roundValue(mae)}: the test MAE)`);
      }
      if (data.model) answer.append(` (${data.model} v${data.version})`);
      item.prediction.append(answer);
      if (regression && card?.metrics) {
        item.prediction.append(element("p", "metrics", `On the test rows: ${metricsText(card.metrics)}.`));
      }
    }
    if (Array.isArray(data.classes) && Array.isArray(data.probabilities)) {
      const bars = element("ul", "probabilities");
      data.classes.forEach((name, index) => {
        const probability = data.probabilities[index];
        const bar = element("li");
        const label = element("span", "class-name", shown(name));
        const meter = document.createElement("meter");
        meter.min = 0;
        meter.max = 1;
        meter.value = probability;
        meter.setAttribute("aria-label", `probability of ${name}`);
        bar.append(label, meter, element("span", "percent", percent(probability)));
        bars.append(bar);
      });
      item.prediction.append(bars);
    }
    for (const warning of data.warnings ?? []) {
      const feature = card?.features?.find((f) => f.name === warning.field) ?? { name: warning.field };
      item.prediction.append(
        element("p", "warning", `Note: ${titleOf(feature)}: ${warning.problem}; the model is guessing.`),
      );
    }
  }

  #subagents(item, run) {
    item.subagents.replaceChildren();
    for (const [name, sub] of run.subagents) {
      const line = element("p", "subagent");
      line.append(element("strong", "", `${name}: `));
      if (sub.prediction) line.append(JSON.stringify(sub.prediction.prediction ?? sub.prediction));
      if (sub.text) line.append(` ${sub.text}`);
      item.subagents.append(line);
    }
  }

  #progress(item, run) {
    const { done, total, note } = run.progress;
    item.progress.hidden = false;
    item.progress.max = total ?? 0;
    if (total) item.progress.value = done;
    item.progress.textContent = total ? `${done} of ${total}` : `${done}`;
    item.progress.title = note ?? "";
  }

  #control(item, control) {
    const text = control.action === "cancel"
      ? `${this.who(control.device)} pressed Stop`
      : `${this.who(control.device)} steered: ${Object.entries(control.params ?? {})
        .map(([name, value]) => `${name} ${value}`)
        .join(", ")}`;
    item.controls.append(element("li", "", `${timeOf(control.ts)} ${text}`));
  }

  #status(item, run) {
    item.root.dataset.status = run.status;
    const labels = {
      [RunStatus.RUNNING]: run.prediction || run.tokens.length ? "answering…" : "thinking…",
      [RunStatus.CANCELLING]: "stopping…",
      [RunStatus.COMPLETED]: "done",
      [RunStatus.CANCELLED]: "stopped",
      [RunStatus.FAILED]: "failed",
      [RunStatus.INTERRUPTED]: "interrupted",
    };
    item.status.textContent = labels[run.status];
    const endings = {
      [RunStatus.CANCELLED]: `Stopped by ${this.who(run.endedBy)}.`,
      [RunStatus.FAILED]: `The run failed: ${run.error}`,
      [RunStatus.INTERRUPTED]: `Interrupted: ${run.error}. Ask again to get a full answer.`,
    };
    item.ending.textContent = endings[run.status] ?? "";
    if (run.status === RunStatus.COMPLETED && run.tokens.length === 0 && run.result !== null) {
      // An agent that writes no text (batch scoring, a vote): show what it returned.
      item.ending.textContent = `Result: ${JSON.stringify(run.result)}`;
    }
  }
}

/** The history view: every event of the session, as the server logged it. */
export class HistoryView {
  static LIMIT = 2000; // rows kept on screen; the log itself keeps everything

  constructor(tbody, me) {
    this.tbody = tbody;
    this.me = me;
  }

  append(event) {
    const row = document.createElement("tr");
    const who = event.device === this.me ? "this tab" : (event.device ?? event.agent ?? "");
    const data = event.type === "delta" ? JSON.stringify(event.data.text) : JSON.stringify(event.data);
    for (const text of [event.offset, timeOf(event.ts), event.type, event.run ?? "", who, data]) {
      row.append(element("td", "", text));
    }
    this.tbody.append(row);
    if (this.tbody.rows.length > HistoryView.LIMIT) this.tbody.rows[0].remove();
  }
}
