// form.js: the prediction form, generated from the model card's feature schema.
//
// The card (GET /v1/models) lists every feature the model was trained on: numbers with the
// range seen in training, categories with the values seen. The form asks for exactly those.
// It checks nothing itself: the server checks every value against the same card and says
// what is wrong with each field (POST /v1/models/<name>/validate); the form shows that next
// to the field. One set of rules, in one place.
//
// Every field starts with a value the server accepts (issue 15: the page pre-filled integer
// features with their mean, 48.52, and the server refused its own form): a whole number for
// an integer feature, the first category or "no" in a select. A 64-pixel model (the digits
// network of notebook 09) gets an 8x8 grid of boxes rather than a list of 64 fields.

import { titleOf } from "./card.js";

/** "bill_length_mm" -> "Bill length (mm)": the card's label and unit, or the name made readable. */
export function labelOf(feature) {
  const text = titleOf(typeof feature === "string" ? { name: feature } : feature);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function round(value) {
  return Number(value.toPrecision(4));
}

/** A starting value the server accepts: the training mean, whole for an integer feature. */
export function defaultValue(feature) {
  if (feature.kind === "integer") {
    return String(Math.min(Math.max(Math.round(feature.mean), feature.min), feature.max));
  }
  return String(round(feature.mean));
}

// Columns named pixel_0 ... pixel_63 (a square count): an image, drawn as a grid of boxes.
const PIXEL = /^pixel_(\d+)$/;
function gridSide(features) {
  const side = Math.round(Math.sqrt(features.length));
  const pixels = features.every((f, i) => PIXEL.exec(f.name)?.[1] === String(i) && f.kind !== "category");
  return pixels && side * side === features.length && side > 1 ? side : 0;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export class PredictionForm {
  /**
   * @param {HTMLElement} container  where the fields go
   * @param {HTMLElement} general    where problems that concern no single field go
   * @param {object} card            the model card (its `features` list)
   */
  constructor(container, general, card) {
    this.general = general;
    this.fields = new Map(); // feature name -> {feature, control, message}
    const side = gridSide(card.features);
    if (side) container.replaceChildren(this.#grid(card.features, side));
    else container.replaceChildren(...card.features.map((feature, index) => this.#field(feature, index)));
  }

  /** An image model's inputs as a side x side grid of small boxes, one per pixel. */
  #grid(features, side) {
    const wrapper = document.createElement("fieldset");
    wrapper.className = "field pixel-grid";
    const legend = document.createElement("legend");
    const first = features[0];
    legend.textContent = `The image, ${side}x${side} pixels` +
      (first.unit ? ` (${first.unit})` : "") +
      `: each box from ${round(first.min)} to ${round(first.max)}`;
    const grid = document.createElement("div");
    grid.className = "grid";
    // Inline layout: the grid needs no rule in style.css.
    Object.assign(grid.style, { display: "grid", gridTemplateColumns: `repeat(${side}, 3.2em)`, gap: "2px" });
    const messages = document.createElement("div");
    features.forEach((feature, index) => {
      const control = this.#number(feature);
      control.id = `feature-${index}`;
      control.name = feature.name;
      control.size = 2;
      control.style.width = "3em";
      control.setAttribute("aria-label", `${labelOf(feature)}, row ${Math.floor(index / side) + 1}, column ${(index % side) + 1}`);
      const message = document.createElement("p");
      message.className = "message";
      message.id = `feature-${index}-message`;
      message.dataset.field = feature.name;
      control.setAttribute("aria-describedby", message.id);
      grid.append(control);
      messages.append(message);
      this.fields.set(feature.name, { feature, control, message });
    });
    wrapper.append(legend, grid, messages);
    return wrapper;
  }

  #field(feature, index) {
    const wrapper = document.createElement("div");
    wrapper.className = "field";
    wrapper.dataset.field = feature.name;
    const id = `feature-${index}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = labelOf(feature);
    const control = feature.categories || feature.kind === "boolean"
      ? this.#select(feature)
      : this.#number(feature);
    control.id = id;
    control.name = feature.name;
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.id = `${id}-hint`;
    hint.textContent = this.#hint(feature);
    const message = document.createElement("p");
    message.className = "message";
    message.id = `${id}-message`;
    control.setAttribute("aria-describedby", `${hint.id} ${message.id}`);
    wrapper.append(label, control, hint, message);
    this.fields.set(feature.name, { feature, control, message });
    return wrapper;
  }

  #number(feature) {
    // A text box, not type=number: the browser would silently turn "12,5" or "heavy" into an
    // empty value, and the learner would never see what the server says about such input.
    const input = document.createElement("input");
    input.type = "text";
    input.inputMode = feature.kind === "integer" ? "numeric" : "decimal";
    input.autocomplete = "off";
    input.value = defaultValue(feature); // a typical value the server accepts: one click predicts
    input.placeholder = feature.missing_seen ? "empty = unknown" : defaultValue(feature);
    return input;
  }

  #select(feature) {
    const select = document.createElement("select");
    const values = feature.categories ?? [false, true];
    for (const value of values) {
      const option = document.createElement("option");
      option.value = JSON.stringify(value); // keeps the type: "Dream", 3, true
      option.textContent = typeof value === "boolean" ? (value ? "yes" : "no") : String(value);
      select.append(option);
    }
    if (feature.missing_seen) {
      const unknown = document.createElement("option");
      unknown.value = "null";
      unknown.textContent = "(unknown)";
      select.append(unknown);
    }
    return select;
  }

  #hint(feature) {
    if (feature.categories || feature.kind === "boolean") {
      return feature.missing_seen ? "May be left unknown." : "";
    }
    const whole = feature.kind === "integer" ? "A whole number; in" : "In";
    const range = `${whole} training: ${round(feature.min)} to ${round(feature.max)}, typically ${round(
      feature.mean,
    )}.`;
    return feature.missing_seen ? `${range} May be left empty.` : range;
  }

  /** The row as the user gave it: numbers where they typed numbers, their text otherwise. */
  read() {
    const row = {};
    for (const [name, { control }] of this.fields) {
      if (control.tagName === "SELECT") {
        row[name] = JSON.parse(control.value);
        continue;
      }
      const text = control.value.trim();
      if (text === "") row[name] = null;
      else if (NUMBER.test(text)) row[name] = Number(text);
      else row[name] = text; // sent as typed: the server says why it is not a number
    }
    return row;
  }

  clear() {
    this.general.textContent = "";
    for (const { control, message } of this.fields.values()) {
      control.removeAttribute("aria-invalid");
      message.textContent = "";
      message.className = "message";
    }
  }

  /** Show the server's problems (errors) and warnings, each next to its field. */
  show(problems, warnings = []) {
    const elsewhere = [];
    for (const [items, kind] of [
      [warnings, "warning"],
      [problems, "error"],
    ]) {
      for (const item of items) {
        // A problem that starts with a capital letter is a whole sentence ("Age must be a
        // whole number, like 48"); a lowercase one reads with what was expected.
        const sentence = /^[A-Z]/.test(item.problem);
        const problem = item.problem.charAt(0).toUpperCase() + item.problem.slice(1);
        const text = sentence ? `${problem}.` : `${problem}; expected ${item.expected}.`;
        const field = this.fields.get(item.field);
        if (field === undefined) {
          elsewhere.push(`${item.field}: ${text}`);
          continue;
        }
        field.message.textContent = kind === "warning" ? `Note: ${text}` : text;
        field.message.className = `message ${kind}`;
        if (kind === "error") field.control.setAttribute("aria-invalid", "true");
      }
    }
    this.general.textContent = elsewhere.join(" ");
    const first = [...this.fields.values()].find(({ control }) => control.getAttribute("aria-invalid"));
    first?.control.focus();
  }
}
