// transcript.js: the session's events, folded into what the page shows.
//
// The page keeps no state of its own about runs: everything it shows is computed from the
// session log, event by event. That is why two tabs, a phone and a reloaded page all show the
// same thing: they read the same log. This module does no I/O and no drawing.

/** How a run stands. The last four are endings: a run gets exactly one. */
export const RunStatus = Object.freeze({
  RUNNING: "running",
  CANCELLING: "cancelling", // someone pressed Stop; the ending follows within ~100 ms
  COMPLETED: "completed",
  CANCELLED: "cancelled",
  FAILED: "failed",
  INTERRUPTED: "interrupted", // the server stopped while the run was going
});

const ENDINGS = {
  "run.completed": RunStatus.COMPLETED,
  "run.cancelled": RunStatus.CANCELLED,
  "run.failed": RunStatus.FAILED,
  "run.interrupted": RunStatus.INTERRUPTED,
};

/** One run: the message that started it and everything its agents wrote. */
export class Run {
  constructor(id) {
    this.id = id;
    this.agent = null; // the agent that answers
    this.device = null; // who sent the message
    this.request = null; // the message's data, e.g. {model, row}
    this.sentAt = null;
    this.params = {}; // the agent's parameters, as steered
    this.status = RunStatus.RUNNING;
    this.prediction = null; // the run agent's prediction event data
    this.tokens = []; // the run agent's deltas: {offset, text}
    this.subagents = new Map(); // sub-agent name -> {prediction, text}
    this.progress = null; // the last progress event's data (its note kept from the first)
    this.batch = null; // a batch run's rows, folded: see foldBatch
    this.controls = []; // {device, action, params, ts}: Stop and steer, by whom
    this.endedBy = null; // who stopped it (cancelled)
    this.error = null; // why it failed or was interrupted
    this.result = null; // what the agent returned (completed)
  }

  get active() {
    return this.status === RunStatus.RUNNING || this.status === RunStatus.CANCELLING;
  }
}

/** How many rows of a batch run the page keeps to show; the rest are only counted. */
export const BATCH_ROWS_SHOWN = 10;

/**
 * One chunk of a batch run (a `prediction` event {rows: [start, stop], predictions, errors,
 * warnings, classes?, probabilities?}) folded into run.batch: the first rows as they are, and
 * for every row a count (by predicted label; numbers by their range). A run of a million rows
 * keeps ten rows and a few counts, never the million.
 */
function foldBatch(run, data) {
  run.batch ??= { rows: [], counts: new Map(), scored: 0, invalid: 0, warned: 0, low: null, high: null, sum: 0 };
  const batch = run.batch;
  const [start] = data.rows;
  const errors = new Map(data.errors ?? []);
  const warnings = new Map(data.warnings ?? []);
  batch.warned += warnings.size;
  data.predictions.forEach((prediction, index) => {
    const row = start + index;
    if (prediction === null) {
      batch.invalid += 1;
    } else {
      batch.scored += 1;
      if (typeof prediction === "number") {
        batch.sum += prediction;
        batch.low = batch.low === null ? prediction : Math.min(batch.low, prediction);
        batch.high = batch.high === null ? prediction : Math.max(batch.high, prediction);
      } else {
        const label = String(prediction);
        batch.counts.set(label, (batch.counts.get(label) ?? 0) + 1);
      }
    }
    if (batch.rows.length < BATCH_ROWS_SHOWN) {
      const probabilities = data.probabilities?.[index];
      batch.rows.push({
        row,
        prediction,
        probability: Array.isArray(probabilities) ? Math.max(...probabilities) : null,
        error: errors.get(row) ?? null,
        warning: warnings.get(row) ?? null,
      });
    }
  });
}

export class Transcript {
  constructor() {
    this.runs = new Map(); // run id -> Run, in the order the runs started
    this.present = new Set(); // devices connected now
    this.events = []; // every event, for the history view
  }

  /** The runs that have not ended yet. */
  activeRuns() {
    return [...this.runs.values()].filter((run) => run.active);
  }

  /**
   * Take one event into account. Returns what changed, for the view to redraw only that:
   * {run, what} where `what` is "message", "started", "token", "prediction", "progress",
   * "control", "ended", "presence" or "other" (a type this page does not know: newer server).
   */
  apply(event) {
    this.events.push(event);
    const { type, data, device } = event;
    if (type === "presence.joined") {
      this.present.add(device);
      return { run: null, what: "presence" };
    }
    if (type === "presence.left") {
      this.present.delete(device);
      return { run: null, what: "presence" };
    }
    if (event.run === null) return { run: null, what: "other" };
    const run = this.#run(event.run);
    const ownAgent = event.agent === null || run.agent === null || event.agent === run.agent;
    switch (type) {
      case "message":
        run.device = device;
        run.request = data;
        run.sentAt = event.ts;
        return { run, what: "message" };
      case "run.started":
        run.agent = event.agent;
        run.params = { ...data.params };
        return { run, what: "started" };
      case "delta":
        if (ownAgent) run.tokens.push({ offset: event.offset, text: data.text });
        else this.#subagent(run, event.agent).text += data.text;
        return { run, what: "token", offset: event.offset, text: data.text, own: ownAgent };
      case "prediction":
        if (ownAgent) {
          run.prediction = data;
          if (Array.isArray(data.rows) && Array.isArray(data.predictions)) foldBatch(run, data);
        } else this.#subagent(run, event.agent).prediction = data;
        return { run, what: "prediction" };
      case "progress":
        // Only the first progress of a batch has a note ("344 rows, 0 invalid; ignoring..."):
        // it stays true for the whole run, so it is kept.
        run.progress = { agent: event.agent, ...data, note: data.note ?? run.progress?.note };
        return { run, what: "progress" };
      case "control":
        run.controls.push({ device, action: data.action, params: data.params, ts: event.ts });
        if (data.action === "cancel") run.status = RunStatus.CANCELLING;
        if (data.action === "steer") run.params = { ...run.params, ...data.params };
        return { run, what: "control" };
      default:
        if (type in ENDINGS) {
          run.status = ENDINGS[type];
          run.endedBy = type === "run.cancelled" ? device : null;
          run.error = data.error ?? data.reason ?? null;
          run.result = data.result ?? null;
          return { run, what: "ended" };
        }
        return { run, what: "other" };
    }
  }

  #run(id) {
    let run = this.runs.get(id);
    if (run === undefined) {
      run = new Run(id);
      this.runs.set(id, run);
    }
    return run;
  }

  #subagent(run, name) {
    let sub = run.subagents.get(name);
    if (sub === undefined) {
      sub = { prediction: null, text: "" };
      run.subagents.set(name, sub);
    }
    return sub;
  }
}
