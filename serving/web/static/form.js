// form.js: the prediction form, generated from the model card's feature schema.
//
// The card (GET /v1/models) lists every feature the model was trained on: numbers with the
// range seen in training, categories with the values seen. The form asks for exactly those.
// It checks nothing itself: the server checks every value against the same card and says
// what is wrong with each field (POST /v1/models/<name>/validate); the form shows that next
// to the field. One set of rules, in one place.

const UNITS = { mm: "mm", cm: "cm", m: "m", g: "g", kg: "kg", s: "s", pct: "%" };

/** "bill_length_mm" -> "Bill length (mm)": a readable label from a column name. */
export function labelOf(name) {
  const words = name.split("_").filter(Boolean);
  const unit = words.length > 1 ? UNITS[words[words.length - 1]] : undefined;
  if (unit) words.pop();
  const text = words.join(" ");
  const label = text.charAt(0).toUpperCase() + text.slice(1);
  return unit ? `${label} (${unit})` : label;
}

function round(value) {
  return Number(value.toPrecision(4));
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
    container.replaceChildren(...card.features.map((feature, index) => this.#field(feature, index)));
  }

  #field(feature, index) {
    const wrapper = document.createElement("div");
    wrapper.className = "field";
    wrapper.dataset.field = feature.name;
    const id = `feature-${index}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = labelOf(feature.name);
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
    input.value = String(round(feature.mean)); // a typical value, so one click predicts
    return input;
  }

  #select(feature) {
    const select = document.createElement("select");
    const values = feature.categories ?? [true, false];
    for (const value of values) {
      const option = document.createElement("option");
      option.value = JSON.stringify(value); // keeps the type: "Dream", 3, true
      option.textContent = String(value);
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
    const range = `In training: ${round(feature.min)} to ${round(feature.max)}, typically ${round(
      feature.mean,
    )}.`;
    return feature.missing_seen ? `${range} Leave empty if unknown.` : range;
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
        const problem = item.problem.charAt(0).toUpperCase() + item.problem.slice(1);
        const text = `${problem}; expected ${item.expected}.`;
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
