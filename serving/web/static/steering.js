// steering.js: the steer controls (length: short/medium/long, audience: beginner/expert).
//
// They are built from the parameters the agent declares (GET /v1/sessions/<id> lists each
// agent's parameters; those with a list of choices become radio buttons), so a new parameter
// on the server shows up here without a change to the page. A choice is remembered for the
// next question and, while an answer is being written, sent at once as a `steer` command.
// What the radios show comes from the session log: steer from another tab, and this one
// follows.

const STORAGE_KEY = "preferences";

export class SteeringControls {
  /**
   * @param {HTMLElement} container  where the radio groups go
   * @param {object} params          the agent's parameters: {name: {default, choices, help}}
   * @param {(name: string, value: string) => Promise<unknown>} onChange  steers active runs
   */
  constructor(container, params, onChange) {
    this.onChange = onChange;
    this.radios = new Map(); // param name -> its radio buttons
    this.pending = new Map(); // param name -> a value chosen here, not yet in the log
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}");
    this.preferences = {};
    const groups = [];
    for (const [name, param] of Object.entries(params)) {
      if (!param.choices) continue; // numbers (like speed) have no radio buttons
      this.preferences[name] = param.choices.includes(saved[name]) ? saved[name] : param.default;
      groups.push(this.#group(name, param));
    }
    container.replaceChildren(...groups);
  }

  #group(name, param) {
    const fieldset = document.createElement("fieldset");
    fieldset.className = "choices";
    const legend = document.createElement("legend");
    legend.textContent = name.charAt(0).toUpperCase() + name.slice(1);
    const help = document.createElement("span");
    help.className = "hint";
    help.textContent = ` (${param.help})`;
    legend.append(help);
    fieldset.append(legend);
    const radios = param.choices.map((choice) => {
      const label = document.createElement("label");
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = `steer-${name}`;
      radio.value = choice;
      radio.addEventListener("change", () => this.#choose(name, choice));
      label.append(radio, ` ${choice}`);
      fieldset.append(label);
      return radio;
    });
    this.radios.set(name, radios);
    return fieldset;
  }

  #choose(name, value) {
    this.preferences[name] = value;
    localStorage.setItem(STORAGE_KEY, JSON.stringify(this.preferences));
    // Until the steer is in the log, show the choice, not the run's older value.
    this.pending.set(name, value);
    this.onChange(name, value).finally(() => {
      if (this.pending.get(name) === value) this.pending.delete(name);
    });
  }

  /** Show the values of `run` (an answer being written), or the preferences if none. */
  show(run) {
    for (const [name, radios] of this.radios) {
      const value = this.pending.get(name) ?? run?.params[name] ?? this.preferences[name];
      for (const radio of radios) radio.checked = radio.value === value;
    }
  }
}
