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

// The card's metrics as a learner reads them: classification scores as shares, the others
// as numbers with three significant figures. Names as course.evaluate writes them.
const METRIC_NAMES = {
  accuracy: "accuracy",
  balanced_accuracy: "balanced accuracy",
  precision: "precision",
  recall: "recall",
  f1: "F1",
  f1_macro: "F1 (macro)",
  roc_auc: "ROC AUC",
  mae: "MAE",
  rmse: "RMSE",
  r2: "R²",
};
const SHARES = new Set(["accuracy", "balanced_accuracy", "precision", "recall", "f1", "f1_macro"]);
const HEADLINE = ["accuracy", "f1_macro", "mae", "rmse", "r2", "roc_auc"];

/** 161.04305905320987 -> "161"; 4183.2 -> "4,180"; 0.02051 -> "0.0205": 3 significant figures. */
export function roundValue(value) {
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toPrecision(3)).toLocaleString("en", { maximumFractionDigits: 10 });
}

/** "bill_length_mm" -> ["bill length", "mm"]: as course/labels.py makes a name readable. */
const UNIT_SUFFIXES = {
  mm: "mm", cm: "cm", m: "m", km: "km", g: "g", kg: "kg", s: "s", ms: "ms", pct: "%", percent: "%",
  c: "°C", usd: "USD", eur: "EUR",
};
export function readable(name) {
  const words = String(name).split(/[_\s]+/).filter(Boolean);
  const last = words.length > 1 ? words[words.length - 1].toLowerCase() : "";
  const unit = UNIT_SUFFIXES[last] ?? "";
  if (unit) words.pop();
  return [words.join(" ") || String(name), unit];
}

/** A feature's (or the target's) label with its unit, from the card: "bill length (mm)". */
export function titleOf(item) {
  if (!item || item.name == null) return "";
  const [label, unit] = readable(item.name);
  const shownUnit = item.unit ?? unit;
  const text = item.label || label;
  return shownUnit ? `${text} (${shownUnit})` : text;
}

/** The card's test metrics in words: "accuracy 97.1%", "MAE 42.8 · RMSE 53.9 · R² 0.45". */
export function metricsText(metrics) {
  const names = HEADLINE.filter((name) => typeof metrics?.[name] === "number");
  return names
    .map((name) => {
      const value = metrics[name];
      const shown = SHARES.has(name) ? share(value) : roundValue(value);
      return `${METRIC_NAMES[name]} ${shown}`;
    })
    .join(" · ");
}

/**
 * One line about the model: name, live version, description, what it predicts, its test
 * scores; a newer version waiting for a promote is named (docs/MODELS.md, "Versions").
 */
export function describeModel(model) {
  const { card } = model;
  const live = model.live ?? model.latest; // a server from before versions had a live one
  const parts = [`${model.name} v${live}: ${card.description}`.trim()];
  const target = titleOf(card.target);
  if (target) parts.push(`Predicts: ${target}.`);
  const scores = metricsText(card.metrics);
  if (scores) parts.push(`On the test rows: ${scores}.`);
  if (model.latest !== live) {
    parts.push(`Version ${live} is live; version ${model.latest} is newer and waits for a promote.`);
  }
  return parts.join(" ");
}
