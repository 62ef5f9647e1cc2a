// classroom-join.js: the join page (/classroom/<code>/join), where the QR code on the
// projector leads. It asks GET /v1/classrooms/<code> (no token: the code is the room's
// secret) whether the room exists, then shows the two ways to join, for the name typed:
//
//   export COURSE_CLASSROOM=<this server>/classroom/<CODE> COURSE_NAME=<name>
//   from course import classroom; classroom.join("<this server>", "<K7Q-M4Z>", name="<name>")
//
// the same lines `course classroom start` prints. The server is this page's own origin: the
// learner reached it at the address the QR code holds, so their notebook reaches it there too.

import { displayCode, errorMessage, pageCode } from "./classroom-token.js";

const $ = (id) => document.getElementById(id);

/** The terminal's line and the notebook's line for `name` (pure: tested in the page). */
export function joinLines(origin, code, name) {
  const shown = name.trim() || "Ada";
  const quoted = JSON.stringify(shown); // a Python string literal too, for any printable name
  const shell = /^[\w.-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", "'\\''")}'`;
  return {
    environment: `export COURSE_CLASSROOM=${origin}/classroom/${code} COURSE_NAME=${shell}`,
    python: `from course import classroom; classroom.join("${origin}", "${displayCode(code)}", name=${quoted})`,
  };
}

function banner(text) {
  $("banner").textContent = text;
  $("banner").hidden = false;
}

async function copy(id) {
  const field = $(id);
  const status = $("copy-status");
  try {
    // navigator.clipboard needs a secure context: a LAN address over http is not one.
    if (!navigator.clipboard) throw new Error("no clipboard");
    await navigator.clipboard.writeText(field.value);
  } catch {
    field.focus();
    field.select();
    if (!document.execCommand || !document.execCommand("copy")) {
      status.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy it.";
      return;
    }
  }
  status.textContent = "Copied. Paste it where it says.";
  status.dataset.copied = id;
}

async function main() {
  const code = pageCode();
  if (!code) {
    banner("This link names no classroom: open the link or QR code on the projector.");
    return;
  }
  $("join-code").textContent = displayCode(code);
  let response;
  try {
    response = await fetch(`/v1/classrooms/${encodeURIComponent(code)}`);
  } catch {
    banner("The classroom's server does not answer: check you are on the workshop's Wi-Fi, then reload this page.");
    return;
  }
  if (!response.ok) {
    banner(await errorMessage(response, `The server refused (HTTP ${response.status}): reload this page.`));
    return;
  }
  const room = await response.json();
  $("join-code").textContent = room.display_code;
  $("room-title").textContent = room.title ?? "";
  const show = () => {
    const lines = joinLines(location.origin, room.code, $("name").value);
    $("environment").value = lines.environment;
    $("python").value = lines.python;
  };
  $("name").addEventListener("input", show);
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", () => copy(button.dataset.copy));
  }
  show();
  $("join").hidden = false;
  document.body.dataset.ready = "true";
}

main();
