// view.js: drawing the connection indicator, the runs and the history of the session.
//
// Everything drawn here comes from transcript.js (the session's events, folded); the view
// only turns it into HTML. A run is redrawn piece by piece as its events arrive; the streamed
// explanation grows one <span> per token, each marked with its event's offset, so anyone (or
// a test) can check that no token is missing or shown twice.
//
// An agent that writes no text shows what it returned as a person reads it, never as JSON:
// an ensemble's members and their votes, a batch run's counts and first rows, each a real
// <table> with headers (a screen reader reads row and column), every bar with its number
// written next to it.

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
        if (run.batch) this.#batch(item, run);
        else this.#prediction(item, run);
        this.#subagents(item, run);
        break;
      case "progress":
        this.#progress(item, run);
        break;
      case "control":
        this.#control(item, run.controls[run.controls.length - 1]);
        break;
      case "ended":
        this.#result(item, run);
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
    // The bar spans the answer's width; the count is written next to it ("344 of 344 rows").
    const progressLine = element("div", "progress-line");
    progressLine.hidden = true;
    const progress = element("progress", "progress");
    progress.id = `progress-${run.id}`;
    const progressText = element("label", "progress-text");
    progressText.htmlFor = progress.id;
    progressLine.append(progress, progressText);
    const subagents = element("div", "subagents");
    // aria-live: screen readers read the explanation as it streams, without moving focus.
    const explanation = element("p", "explanation");
    explanation.setAttribute("aria-live", "polite");
    const controls = element("ul", "controls-log");
    const ending = element("p", "ending");
    const result = element("div", "result");
    root.append(head, request, progressLine, prediction, subagents, explanation, controls, ending, result);
    this.list.prepend(root);
    const item = { root, who, time, status, request, prediction, progressLine, progress, progressText };
    Object.assign(item, { subagents, explanation, controls, ending, result });
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
    } else if (data.model && (data.dataset || data.upload || typeof data.csv === "string")) {
      const table = data.dataset ? `the dataset ${data.dataset}` : data.upload ? "an uploaded table" : "a table";
      item.request.textContent = `Score ${table} with ${data.model}`;
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
    // The members of an ensemble (sub-agents model:<name>, each with its model's prediction)
    // make one table; any other sub-agent (the demo orchestrator's) one line each.
    const members = [...run.subagents]
      .filter(([name, sub]) => name.startsWith("model:") && sub.prediction && "prediction" in sub.prediction)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (members.length) item.subagents.append(this.#membersTable(members.map(([, sub]) => sub.prediction)));
    for (const [name, sub] of run.subagents) {
      if (members.some(([member]) => member === name)) continue;
      const line = element("p", "subagent");
      line.append(element("strong", "", `${name}: `));
      if (sub.prediction) line.append(JSON.stringify(sub.prediction.prediction ?? sub.prediction));
      if (sub.text) line.append(` ${sub.text}`);
      item.subagents.append(line);
    }
  }

  #progress(item, run) {
    const { done, total, note } = run.progress;
    item.progressLine.hidden = false;
    // max before value: a value above the old max would be clamped to it. No total: the
    // bar is indeterminate (it moves), never a fixed share that means nothing.
    if (total) {
      item.progress.max = total;
      item.progress.value = done;
    } else {
      item.progress.removeAttribute("value");
    }
    const rows = run.batch || run.agent === "batch" ? " rows" : "";
    const count = total ? `${done.toLocaleString("en")} of ${total.toLocaleString("en")}${rows}` : `${done}${rows}`;
    item.progressText.textContent = note ? `${count} · ${note}` : count;
  }

  /** An ensemble's members, one row each: what each said and its probability per class. */
  #membersTable(predictions) {
    const classes = predictions.find((p) => Array.isArray(p.classes))?.classes ?? [];
    const table = resultTable("Each member's answer", ["Member", "Prediction", ...classes.map(shown)]);
    table.classList.add("members");
    for (const data of predictions) {
      const row = table.tBodies[0].insertRow();
      row.dataset.member = data.model ?? "";
      const member = element("th", "", data.version ? `${data.model} v${data.version}` : String(data.model));
      member.scope = "row";
      row.append(member, element("td", "", shown(data.prediction)));
      classes.forEach((name, index) => {
        const at = Array.isArray(data.classes) ? data.classes.indexOf(name) : -1;
        const probability = at >= 0 ? data.probabilities?.[at] : undefined;
        row.append(element("td", "number", typeof probability === "number" ? percent(probability) : ""));
      });
    }
    return table;
  }

  /** What an agent that writes no text returned: a vote, a batch run's outcome, or a list. */
  #result(item, run) {
    item.result.replaceChildren();
    const result = run.result;
    if (run.status !== RunStatus.COMPLETED || run.tokens.length > 0 || result === null) return;
    if (typeof result !== "object") {
      item.result.append(element("p", "answer", `Result: ${shown(result)}`));
    } else if (result.votes && typeof result.votes === "object") {
      this.#vote(item, result);
    } else if ("result_url" in result && "rows_scored" in result) {
      this.#batch(item, run);
    } else {
      // Any other agent (retrain, the demo orchestrator): its fields, one per line.
      const list = element("dl", "fields-list");
      for (const [name, value] of Object.entries(result)) {
        const text = value !== null && typeof value === "object" ? JSON.stringify(value) : shown(value);
        list.append(element("dt", "", name.replaceAll("_", " ")), element("dd", "", text));
      }
      item.result.append(list);
    }
  }

  /** An ensemble's vote: the winner, then each class with its votes and mean probability. */
  #vote(item, result) {
    const members = result.members ?? [];
    const target = titleOf(this.cardOf(members[0]?.model)?.target);
    const answer = element("p", "answer");
    const agree = Math.round((result.agreement ?? 0) * members.length);
    answer.append(
      target ? `The vote: ${target}: ` : "The vote: ",
      element("strong", "", shown(result.prediction)),
      ` (${agree} of ${members.length} models agree; ${result.method ?? "majority"})`,
    );
    const table = resultTable("Votes per class", ["Class", "Votes", "Mean probability"]);
    table.classList.add("votes");
    const classes = result.classes ?? Object.keys(result.votes);
    classes.forEach((name, index) => {
      const row = table.tBodies[0].insertRow();
      row.dataset.class = String(name);
      if (String(name) === String(result.prediction)) row.className = "winner";
      const votes = result.votes[name] ?? 0;
      const mean = result.probabilities?.[index];
      const label = element("th", "", shown(name));
      label.scope = "row";
      row.append(
        label,
        element("td", "number", `${votes} of ${members.length}`),
        typeof mean === "number" ? barCell(mean, 1, percent(mean), `mean probability of ${name}`) : element("td"),
      );
    });
    // In the prediction's place, above the members: the vote is the answer.
    item.prediction.replaceChildren(answer, table);
  }

  /**
   * A batch run: what was scored, how many rows got each prediction, the first rows (the
   * CSV has them all). Drawn from run.batch (the chunks so far) and, once done, the result.
   */
  #batch(item, run) {
    const place = item.prediction;
    item.prediction.replaceChildren();
    item.result.replaceChildren();
    const batch = run.batch;
    // Done: run.completed's result; stopped: the same fields, in the run's last prediction.
    const result = run.result ?? (run.prediction?.result_url ? run.prediction : null);
    const card = this.cardOf(result?.model ?? run.request?.model);
    const target = titleOf(card?.target) || "prediction";
    if (result) {
      const summary = element("p", "answer");
      const ignored = result.ignored_columns?.length
        ? ` Columns the model does not use: ${result.ignored_columns.join(", ")}.`
        : "";
      summary.append(
        element("strong", "", `${(result.rows_scored ?? 0).toLocaleString("en")} rows scored`),
        ` with ${result.model} v${result.version} (${result.source}); ` +
          `${result.invalid_rows ?? 0} invalid.${ignored} `,
      );
      const link = element("a", "download", "Download every prediction (CSV)");
      link.href = result.result_url;
      link.download = "";
      summary.append(link);
      place.append(summary);
    }
    if (!batch) return;
    if (batch.counts.size) {
      const table = resultTable(`Predicted ${target}, over ${batch.scored.toLocaleString("en")} scored rows`, [
        target.charAt(0).toUpperCase() + target.slice(1),
        "Rows",
      ]);
      table.classList.add("counts");
      const sorted = [...batch.counts].sort(([, a], [, b]) => b - a);
      for (const [label, count] of sorted) {
        const row = table.tBodies[0].insertRow();
        row.dataset.label = label;
        const name = element("th", "", label);
        name.scope = "row";
        const share = batch.scored ? count / batch.scored : 0;
        row.append(name, barCell(share, 1, `${count.toLocaleString("en")} (${percent(share)})`, `rows predicted ${label}`));
      }
      place.append(table);
    } else if (batch.low !== null) {
      const mean = batch.sum / batch.scored;
      place.append(element("p", "metrics",
        `Predicted ${target}: from ${roundValue(batch.low)} to ${roundValue(batch.high)}, on average ${roundValue(mean)}.`));
    }
    if (batch.invalid || batch.warned) {
      place.append(element("p", "warning",
        `${batch.invalid} rows invalid (not scored), ${batch.warned} with a value far from training: see the CSV's error and warning columns.`));
    }
    const withProbability = batch.rows.some((row) => row.probability !== null);
    const headers = ["Row", target.charAt(0).toUpperCase() + target.slice(1)];
    if (withProbability) headers.push("Probability");
    const withNote = batch.rows.some((row) => row.error !== null || row.warning !== null);
    if (withNote) headers.push("Note");
    headers[0] = "Row (from 0)"; // as in the CSV
    const first = resultTable(`The first ${batch.rows.length} rows`, headers);
    first.classList.add("batch-rows");
    for (const entry of batch.rows) {
      const row = first.tBodies[0].insertRow();
      row.dataset.row = entry.row;
      const number = element("th", "number", String(entry.row));
      number.scope = "row";
      row.append(number, element("td", "", entry.prediction === null ? "not scored" : shown(entry.prediction)));
      if (withProbability) row.append(element("td", "number", entry.probability === null ? "" : percent(entry.probability)));
      if (withNote) row.append(element("td", "", entry.error ?? entry.warning ?? ""));
    }
    place.append(first);
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
  }
}

/** A <table> with a caption and column headers, its rows to be added to tBodies[0]. */
function resultTable(caption, headers) {
  const table = element("table", "result-table");
  table.append(element("caption", "", caption));
  const head = table.createTHead().insertRow();
  for (const title of headers) {
    const cell = element("th", "", title);
    cell.scope = "col";
    head.append(cell);
  }
  table.append(document.createElement("tbody"));
  return table;
}

/** A table cell with a bar (a <meter>, labelled) and its value written next to it. */
function barCell(value, max, text, label) {
  const cell = element("td", "bar");
  const meter = document.createElement("meter");
  meter.min = 0;
  meter.max = max;
  meter.value = value;
  meter.setAttribute("aria-label", label);
  cell.append(meter, element("span", "bar-text", text));
  return cell;
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
