// card.js: the model card of the chosen model, in plain words, from GET /v1/models.
//
// What the model is for (intended use), where it stops (limitations), its test scores and
// how it did on each group of test rows (one island, one sex): an average can hide a group
// the model fails, and a small group has a wide interval. Built with the DOM only (no
// innerHTML): every text comes from the card as plain text. A card exported before these
// fields existed simply shows fewer sections.

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function share(value) {
  return `${(value * 100).toFixed(1)}%`;
}

/** "97.5% (95% interval 87.1% to 99.6%)" for a group's accuracy, or its first metric. */
export function groupScore(metrics) {
  const { low, high, ...scores } = metrics ?? {};
  const [name, value] = Object.entries(scores)[0] ?? [];
  if (name === undefined) return "";
  const asShare = name === "accuracy";
  const shown = (v) => (asShare ? share(v) : v.toFixed(3));
  const bounded = low !== undefined && high !== undefined;
  const interval = bounded ? ` (95% interval ${shown(low)} to ${shown(high)})` : "";
  return `${asShare ? "" : `${name} `}${shown(value)}${interval}`;
}

function section(title, ...content) {
  const part = element("section");
  part.append(element("h3", title), ...content);
  return part;
}

function groupTable(groups) {
  const table = element("table", undefined, "groups");
  table.append(element("caption", "On the test rows, by group"));
  const head = element("tr");
  for (const title of ["Column", "Group", "Rows", "Score"]) {
    const cell = element("th", title);
    cell.scope = "col";
    head.append(cell);
  }
  const body = element("tbody");
  for (const group of groups) {
    const row = element("tr");
    row.dataset.column = group.column;
    row.dataset.group = group.group;
    row.append(
      element("td", group.column),
      element("td", group.group),
      element("td", String(group.rows)),
      element("td", groupScore(group.metrics)),
    );
    body.append(row);
  }
  table.append(element("thead"), body);
  table.tHead.append(head);
  return table;
}

/**
 * Show `card` in `container` (a <details>): intended use, limitations, per-group scores.
 * Hidden when the card has none of them.
 */
export function showModelCard(container, card) {
  const parts = [];
  if (card.intended_use) parts.push(section("Intended use", element("p", card.intended_use)));
  if (card.limitations) parts.push(section("Limitations", element("p", card.limitations)));
  if (card.group_metrics?.length) {
    parts.push(section("By group", groupTable(card.group_metrics)));
  }
  const summary = element("summary", "Model card: what it is for, where it stops");
  container.replaceChildren(summary, ...parts);
  container.hidden = parts.length === 0;
}
