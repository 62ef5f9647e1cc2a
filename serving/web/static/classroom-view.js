// classroom-view.js: drawing the room's snapshot (docs/PROTOCOL.md "Classroom") on the
// instructor's page: the grid of learners by exercises, the hands raised, the most common
// mistakes right now, the pace against the agenda.
//
// Read on a projector from the back of a room, and by people who do not see colour: every
// cell says its state with a symbol and text (✓ passed, ↻ and the number of checks run,
// · not started), colour only repeats it, and each cell has an aria-label with the whole
// sentence ("Ada, exercise 04.2: trying, 2 checks run, latest mistake leaked-test-rows").
// Values come from the network, so nothing here uses innerHTML.
//
// A snapshot arrives up to 4 times a second; a room of 200 learners by 40 exercises is 8,000
// cells. So rows are kept by learner and cells by exercise, and a cell is touched only when
// its state changed (its `data-key`): the table keeps its scroll position and what has focus.

export const SYMBOLS = Object.freeze({ passed: "✓", trying: "↻", none: "·", hand: "☝" });

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text != null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** "2 min" / "just now": how long ago `ts` was at the server's `now`. */
export function ago(ts, now) {
  const seconds = Math.max(0, Math.round(now - ts));
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min ago` : `${Math.floor(minutes / 60)} h ${minutes % 60} min ago`;
}

/** What one cell shows and says: {state, symbol, text, label}. `cell` absent: not started. */
export function describeCell(name, exercise, cell) {
  if (!cell) {
    return {
      state: "none",
      symbol: SYMBOLS.none,
      text: "",
      label: `${name}, exercise ${exercise}: not started`,
    };
  }
  const tries = plural(cell.attempts, "check run", "checks run");
  if (cell.state === "passed") {
    return {
      state: "passed",
      symbol: SYMBOLS.passed,
      text: "pass",
      label: `${name}, exercise ${exercise}: passed, ${tries}`,
    };
  }
  const mistake = cell.mistake ? `, latest mistake ${cell.mistake}` : "";
  return {
    state: "trying",
    symbol: SYMBOLS.trying,
    text: String(cell.attempts),
    label: `${name}, exercise ${exercise}: trying, ${tries}${mistake}`,
  };
}

/** "behind", "ahead", "on-time", or "" when unknown: the server's `behind_minutes` and
 * `ahead_minutes` (docs/PROTOCOL.md "Classroom"; at most one of them is above 0). */
export function paceStatus(pace) {
  if (!pace?.room || pace.behind_minutes == null) return "";
  if (pace.behind_minutes > 0) return "behind";
  if ((pace.ahead_minutes ?? 0) > 0) return "ahead";
  return "on-time";
}

/** The pace line: where the agenda says the room should be, and where it is. */
export function paceSentence(pace, learners) {
  if (!learners) return "Nobody has joined yet: the join code is at the top of this page.";
  const room = pace?.room
    ? `The room is on notebook ${pace.room}.`
    : "No check run yet: the room's notebook shows with the first checks.";
  if (!pace?.agenda) return `No agenda for this classroom. ${room}`;
  const agenda = pace.agenda === "two-days" ? "two days" : "one day";
  const expected = pace.expected
    ? `The agenda (${agenda}) is on notebook ${pace.expected} now.`
    : `The agenda (${agenda}) has not started, or is over.`;
  const status = paceStatus(pace);
  let verdict = "";
  if (status === "behind") verdict = ` ${plural(pace.behind_minutes, "minute", "minutes")} behind.`;
  else if (status === "ahead") verdict = ` ${plural(pace.ahead_minutes, "minute", "minutes")} ahead.`;
  else if (status === "on-time") verdict = " On time.";
  return `${expected} ${room}${verdict}`;
}

/** The exercises with mistakes right now, most learners first: [{exercise, mistakes}]. */
export function mistakesNow(mistakes, exercises = 6) {
  return Object.entries(mistakes ?? {})
    .filter(([, list]) => list.length)
    .map(([exercise, list]) => ({ exercise, mistakes: list.slice(0, 3) }))
    .sort((a, b) => b.mistakes[0].learners - a.mistakes[0].learners)
    .slice(0, exercises); // the few that matter now: a long list is not read aloud
}

export class RoomView {
  /** `nodes`: {grid, pace, hands, handsCount, mistakes, summary}; `onReply(learner)`. */
  constructor(nodes, onReply) {
    this.nodes = nodes;
    this.onReply = onReply;
    this.columns = null; // the exercises the header was drawn for, joined
    this.rows = new Map(); // learner -> {row, nameCell, handCell, cells: Map(exercise -> td)}
    this.room = null;
    this.only = ""; // one notebook's exercises ("04"), or every notebook's ("")
    this.skew = 0; // server clock - this clock, seconds: ages tick between snapshots
  }

  show(room) {
    this.room = room;
    this.skew = room.now - Date.now() / 1000;
    this.#header(room.exercises);
    this.#rows(room);
    this.#hands(room);
    this.#mistakes(room);
    this.nodes.pace.textContent = paceSentence(room.pace, room.learners.length);
    const pace = room.pace ?? {};
    this.nodes.pace.dataset.expected = pace.expected ?? "";
    this.nodes.pace.dataset.room = pace.room ?? "";
    this.nodes.pace.dataset.status = paceStatus(pace);
    const passed = Object.values(room.cells).reduce(
      (sum, row) => sum + Object.values(row).filter((cell) => cell.state === "passed").length,
      0,
    );
    this.nodes.summary.textContent =
      `${plural(room.learners.length, "learner", "learners")}, ` +
      `${plural(passed, "exercise", "exercises")} passed, ` +
      `${plural(room.hands.length, "hand", "hands")} raised.`;
  }

  /** Show only notebook `notebook`'s exercises ("": all): 36 columns do not fit a
   * projector, one notebook's do. Hidden cells keep being updated. */
  showOnly(notebook) {
    this.only = notebook;
    for (const cell of this.nodes.grid.querySelectorAll("[data-notebook]")) {
      cell.hidden = Boolean(notebook) && cell.dataset.notebook !== notebook;
    }
    this.#width();
  }

  /** The number of visible exercise columns, which classroom.css sizes the table by. */
  #width() {
    const shown = this.nodes.grid.querySelectorAll("col.exercise:not([hidden])").length;
    this.nodes.grid.style.setProperty("--exercises", String(shown));
  }

  /** Redraw what depends on the clock (the hands' ages) without a new snapshot. */
  tick() {
    if (this.room) this.#hands(this.room);
  }

  #header(exercises) {
    const key = exercises.join(" ");
    if (key === this.columns) return;
    this.columns = key;
    const head = element("tr");
    const learner = element("th", "Learner", "name");
    learner.scope = "col";
    const hand = element("th", null, "hand");
    hand.scope = "col";
    hand.append(element("span", SYMBOLS.hand, "symbol"), " Hand");
    head.append(learner, hand);
    let notebook = null;
    for (const exercise of exercises) {
      const th = element("th", exercise, "exercise");
      th.scope = "col";
      const starts = exercise.split(".")[0];
      if (starts !== notebook) th.classList.add("first-of-notebook");
      notebook = starts;
      th.dataset.notebook = starts;
      th.hidden = Boolean(this.only) && starts !== this.only;
      head.append(th);
    }
    this.nodes.grid.tHead.replaceChildren(head);
    // The columns' widths (the table is laid out from them alone: classroom.css).
    const columns = [element("col", null, "name"), element("col", null, "hand")];
    for (const exercise of exercises) {
      const col = element("col", null, "exercise");
      col.dataset.notebook = exercise.split(".")[0];
      col.hidden = Boolean(this.only) && col.dataset.notebook !== this.only;
      columns.push(col);
    }
    this.nodes.grid.querySelector("colgroup").replaceChildren(...columns);
    this.#width();
    for (const entry of this.rows.values()) entry.row.remove();
    this.rows.clear(); // the columns changed: rows are drawn again
  }

  #rows(room) {
    const body = this.nodes.grid.tBodies[0];
    const hands = new Map(room.learners.map((l) => [l.learner, l.hand]));
    let previous = null;
    const seen = new Set();
    for (const learner of room.learners) {
      seen.add(learner.learner);
      let entry = this.rows.get(learner.learner);
      if (!entry) {
        entry = this.#newRow(learner, room.exercises);
        this.rows.set(learner.learner, entry);
      }
      // Join order: a row already in place is not moved (moving loses a focused button).
      const expected = previous ? previous.nextSibling : body.firstChild;
      if (expected !== entry.row) body.insertBefore(entry.row, expected);
      previous = entry.row;
      this.#handCell(entry, learner, hands.get(learner.learner));
      const cells = room.cells[learner.learner] ?? {};
      for (const exercise of room.exercises) {
        this.#cell(entry.cells.get(exercise), learner.name, exercise, cells[exercise]);
      }
    }
    for (const [id, entry] of this.rows) {
      if (!seen.has(id)) {
        entry.row.remove();
        this.rows.delete(id);
      }
    }
  }

  #newRow(learner, exercises) {
    const row = element("tr");
    row.dataset.learner = learner.learner;
    const nameCell = element("th", learner.name, "name");
    nameCell.scope = "row";
    const handCell = element("td", null, "hand");
    row.append(nameCell, handCell);
    const cells = new Map();
    let notebook = null;
    for (const exercise of exercises) {
      const td = element("td", null, "cell");
      td.dataset.exercise = exercise;
      const starts = exercise.split(".")[0];
      if (starts !== notebook) td.classList.add("first-of-notebook");
      notebook = starts;
      td.dataset.notebook = starts;
      td.hidden = Boolean(this.only) && starts !== this.only;
      cells.set(exercise, td);
      row.append(td);
    }
    return { row, nameCell, handCell, cells };
  }

  #cell(td, name, exercise, cell) {
    const shown = describeCell(name, exercise, cell);
    const key = `${shown.state}|${cell?.attempts ?? 0}|${cell?.mistake ?? ""}|${name}`;
    if (td.dataset.key === key) return;
    td.dataset.key = key;
    td.dataset.state = shown.state;
    td.dataset.attempts = String(cell?.attempts ?? 0);
    td.setAttribute("aria-label", shown.label);
    td.title = shown.label;
    const symbol = element("span", shown.symbol, "symbol");
    symbol.setAttribute("aria-hidden", "true");
    const text = element("span", shown.text, "text");
    text.setAttribute("aria-hidden", "true");
    td.replaceChildren(symbol, text);
  }

  #handCell(entry, learner, hand) {
    entry.nameCell.textContent = learner.name;
    const key = hand ? `${hand.ts}|${hand.text}` : "";
    if (entry.handCell.dataset.key === key) return;
    entry.handCell.dataset.key = key;
    entry.row.dataset.hand = hand ? "raised" : "";
    if (!hand) {
      entry.handCell.replaceChildren();
      entry.handCell.setAttribute("aria-label", `${learner.name}: no hand raised`);
      entry.handCell.title = "";
      return;
    }
    const said = hand.text ? `: ${hand.text}` : "";
    entry.handCell.setAttribute("aria-label", `${learner.name} raised a hand${said}`);
    entry.handCell.title = `${learner.name} raised a hand${said}`;
    const symbol = element("span", SYMBOLS.hand, "symbol");
    symbol.setAttribute("aria-hidden", "true");
    entry.handCell.replaceChildren(symbol, element("span", hand.text || "raised", "text"));
  }

  #hands(room) {
    const now = Date.now() / 1000 + this.skew;
    this.nodes.handsCount.textContent = String(room.hands.length);
    if (!room.hands.length) {
      this.nodes.hands.replaceChildren(element("li", "No hand raised.", "hint"));
      return;
    }
    const items = room.hands.map((hand) => {
      const item = element("li", null, "raised-hand");
      item.dataset.learner = hand.learner;
      const symbol = element("span", SYMBOLS.hand, "symbol");
      symbol.setAttribute("aria-hidden", "true");
      const words = element("span", null, "words");
      words.append(element("strong", hand.name));
      if (hand.text) words.append(`: ${hand.text}`);
      words.append(" ", element("span", `(${ago(hand.ts, now)})`, "age"));
      const reply = element("button", "Reply", "link");
      reply.type = "button";
      reply.setAttribute("aria-label", `Reply to ${hand.name}`);
      reply.addEventListener("click", () => this.onReply(hand.learner));
      item.append(symbol, words, " ", reply);
      return item;
    });
    this.nodes.hands.replaceChildren(...items);
  }

  #mistakes(room) {
    const now = mistakesNow(room.mistakes);
    if (!now.length) {
      this.nodes.mistakes.replaceChildren(
        element("li", "No mistake right now among the learners still trying.", "hint"),
      );
      return;
    }
    const items = now.map(({ exercise, mistakes }) => {
      const item = element("li", null, "exercise-mistakes");
      item.dataset.exercise = exercise;
      item.append(element("strong", `Exercise ${exercise}`, "exercise-id"));
      const list = element("ol");
      for (const { mistake, learners } of mistakes) {
        const line = element("li");
        line.dataset.mistake = mistake;
        line.dataset.learners = String(learners);
        line.append(element("code", mistake), ` ${plural(learners, "learner", "learners")}`);
        list.append(line);
      }
      item.append(list);
      return item;
    });
    this.nodes.mistakes.replaceChildren(...items);
  }
}
