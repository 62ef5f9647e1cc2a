// classroom.js: the instructor's page, wired. The room's snapshots come from
// classroom-stream.js (live, resuming by itself), classroom-view.js draws them, and the form
// posts a message or a hint to everyone or to one learner
// (POST /v1/classrooms/<code>/messages, docs/PROTOCOL.md "Classroom").

import { RoomStream, StreamState } from "./classroom-stream.js";
import { RoomView } from "./classroom-view.js";
import { displayCode, errorMessage, pageCode, takeToken } from "./classroom-token.js";

const $ = (id) => document.getElementById(id);

const CONNECTION_TEXT = {
  [StreamState.CONNECTING]: "Connecting…",
  [StreamState.LIVE]: "Live",
  [StreamState.RECONNECTING]: "Reconnecting… (the room goes on: nothing is lost)",
  [StreamState.CLOSED]: "Disconnected",
};

function showConnection(state, detail, reconnects) {
  const node = $("connection");
  node.dataset.state = state;
  node.dataset.reconnects = String(reconnects);
  node.querySelector(".label").textContent = detail?.message
    ? `Disconnected: ${detail.message}`
    : CONNECTION_TEXT[state];
}

function banner(text) {
  $("banner").textContent = text;
  $("banner").hidden = false;
}

function learnerOptions(learners) {
  const select = $("broadcast-to");
  const chosen = select.value;
  const options = [new Option("Everyone", "")];
  for (const learner of learners) options.push(new Option(learner.name, learner.learner));
  const same =
    select.options.length === options.length &&
    options.every((option, i) => select.options[i].value === option.value && select.options[i].text === option.text);
  if (same) return;
  select.replaceChildren(...options);
  select.value = learners.some((l) => l.learner === chosen) ? chosen : "";
}

/** The notebook filter's options: one per notebook of the room's exercises. */
function notebookOptions(exercises) {
  const select = $("notebook-filter");
  const notebooks = [...new Set(exercises.map((exercise) => exercise.split(".")[0]))];
  const key = notebooks.join(" ");
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  const chosen = select.value;
  const options = [new Option("every notebook", "")];
  for (const notebook of notebooks) options.push(new Option(`notebook ${notebook}`, notebook));
  select.replaceChildren(...options);
  select.value = notebooks.includes(chosen) ? chosen : "";
}

function main() {
  const code = pageCode();
  const token = code ? takeToken(code, "instructor") : null;
  if (!code) {
    banner("This address names no classroom: open the page link `course classroom start` printed.");
    return;
  }
  $("join-code").textContent = displayCode(code);
  if (!token) {
    banner(
      "This page needs the instructor's link: open the page link `course classroom start` " +
        "printed (it ends with ?access_token=...). The token leaves the address once the page " +
        "has it, and stays in this tab.",
    );
  }
  const base = `/v1/classrooms/${encodeURIComponent(code)}`;
  const view = new RoomView(
    {
      grid: $("grid"),
      pace: $("pace"),
      hands: $("hands"),
      handsCount: $("hands-count"),
      mistakes: $("mistakes"),
      summary: $("summary"),
    },
    (learner) => {
      $("broadcast-to").value = learner;
      $("broadcast-text").focus();
    },
  );
  const stream = new RoomStream({
    url: `${base}/room/events`,
    token,
    onSnapshot: (room) => {
      $("room").hidden = false;
      if (room.title) {
        $("room-title").textContent = room.title;
        document.title = `${room.title} · Classroom`;
      }
      $("room").dataset.offset = String(room.offset);
      learnerOptions(room.learners);
      notebookOptions(room.exercises);
      view.show(room);
    },
    onStateChange: (state, detail) => showConnection(state, detail, stream.reconnects),
  });
  $("notebook-filter").addEventListener("change", (event) => view.showOnly(event.target.value));
  setInterval(() => view.tick(), 15_000);
  stream.start();

  $("broadcast").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("broadcast-status");
    const text = $("broadcast-text").value.trim();
    if (!text) {
      status.textContent = "Type the message first.";
      status.dataset.kind = "error";
      $("broadcast-text").focus();
      return;
    }
    const to = $("broadcast-to").value || null;
    const kind = document.querySelector("#broadcast input[name=kind]:checked").value;
    const who = to ? $("broadcast-to").selectedOptions[0].text : "everyone";
    $("broadcast-send").disabled = true;
    status.textContent = "Sending…";
    status.dataset.kind = "";
    try {
      const headers = { "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(`${base}/messages`, {
        method: "POST",
        headers,
        body: JSON.stringify({ text, to, kind }),
      });
      if (response.ok) {
        const sent = await response.json();
        $("broadcast-text").value = "";
        status.textContent = `${kind === "hint" ? "Hint" : "Message"} sent to ${who} at ${new Date().toLocaleTimeString()}.`;
        status.dataset.kind = "sent";
        status.dataset.offset = String(sent.offset ?? "");
      } else {
        status.textContent = `Not sent: ${await errorMessage(response, `HTTP ${response.status}`)}`;
        status.dataset.kind = "error";
      }
    } catch {
      // Not resent by itself: a message that did arrive would be shown twice.
      status.textContent = "Not sent: the server cannot be reached. Your text is kept: send it again.";
      status.dataset.kind = "error";
    } finally {
      $("broadcast-send").disabled = false;
    }
  });
}

main();
