// monitor.js: "How the model is doing", live. The server records every prediction in the
// model's log (the Durable Stream models/<name>/predictions, docs/MODELS.md); this view
// follows that stream with long-polls, as session.js follows a session, and after each new
// batch of records asks the server for the drift report and the live metrics (one
// computation, course/drift.py, for the page and for Python). Per feature, a small SVG chart:
// the share of training rows in each bin (grey) next to the share of recent inputs (colour),
// with the verdict written out and the same facts in text for screen readers. Nothing is
// built with innerHTML: values come from the network.

import { titleOf } from "./card.js";

const SVG = "http://www.w3.org/2000/svg";
const RETRY_MS = 1000;
const WINDOW = 1000;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text != null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (share) => `${Math.round(share * 100)}%`;

/** The bin whose share grew most, in words: "62% of recent inputs are > 5400 (10% in
 * training)". */
function biggestChange(feature) {
  let best = -1;
  let at = 0;
  feature.recent.forEach((share, index) => {
    const growth = share - feature.training[index];
    if (growth > best) [best, at] = [growth, index];
  });
  const bin = feature.bins[at];
  return `${pct(feature.recent[at])} of recent inputs fall in ${bin} (${pct(feature.training[at])} in training)`;
}

/** One sentence per feature: what a screen reader says, and the chart's label. */
export function featureSentence(feature, title) {
  const psi = feature.psi == null ? "" : `, PSI ${feature.psi.toFixed(2)}`;
  let text = `${title}: ${feature.verdict}${psi}. ${biggestChange(feature)}.`;
  if (feature.out_of_range) text += ` ${feature.out_of_range} outside the training range.`;
  if (feature.unseen) text += ` ${feature.unseen} never seen in training.`;
  return text;
}

function chart(feature, sentence) {
  const width = 240;
  const height = 64;
  const n = feature.bins.length;
  const slot = width / n;
  const bar = Math.max(2, slot / 2 - 1);
  const top = Math.max(...feature.training, ...feature.recent, 0.01);
  const picture = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": sentence,
    class: "drift-chart",
  });
  feature.bins.forEach((bin, index) => {
    for (const [kind, share, offset] of [
      ["training", feature.training[index], 0],
      ["recent", feature.recent[index], bar],
    ]) {
      const h = Math.round((share / top) * (height - 4) * 10) / 10;
      const rect = svg("rect", {
        x: index * slot + offset,
        y: height - h,
        width: bar,
        height: h,
        class: `bar ${kind}`,
        "data-bin": index,
        "data-share": share,
      });
      const tip = svg("title", {});
      tip.textContent = `${bin}: ${pct(share)} ${kind === "training" ? "in training" : "recently"}`;
      rect.append(tip);
      picture.append(rect);
    }
  });
  return picture;
}

export class ModelMonitor {
  /** ``root`` receives the view; ``token`` reads the model logs (null on an open server). */
  constructor(root, token) {
    this.root = root;
    this.headers = token ? { authorization: `Bearer ${token}` } : {};
    this.generation = 0;
    this.busy = false;
    this.again = false;
  }

  /** Show and follow the model ``model`` (its summary from /v1/models); stops the last one. */
  watch(model) {
    this.model = model;
    const generation = ++this.generation;
    this.refresh();
    this.follow(model.name, generation);
  }

  stop() {
    this.generation += 1;
  }

  async follow(name, generation) {
    const stream = `/v1/stream/models/${encodeURIComponent(name)}/predictions`;
    let offset = "now";
    while (this.generation === generation) {
      let response;
      try {
        const live = offset === "-1" ? "" : "&live=long-poll";
        response = await fetch(`${stream}?offset=${offset}${live}`, { headers: this.headers });
      } catch {
        await sleep(RETRY_MS); // the server restarts: the connection badge says so
        continue;
      }
      if (response.status === 404) {
        offset = "-1"; // no prediction yet: the log is made by the first; then read it all
        await sleep(RETRY_MS);
        continue;
      }
      if (!response.ok && response.status !== 204) {
        await sleep(RETRY_MS);
        continue;
      }
      offset = response.headers.get("stream-next-offset") ?? offset;
      if (response.status === 200) {
        await response.arrayBuffer(); // the records themselves: the server sums them up
        this.refresh();
      }
    }
  }

  /** Ask for the report and the metrics; one request at a time, one more if news came. */
  async refresh() {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        const name = encodeURIComponent(this.model.name);
        const [drift, metrics] = await Promise.all(
          ["drift", "metrics"].map((what) =>
            fetch(`/v1/models/${name}/${what}?window=${WINDOW}`, { headers: this.headers }),
          ),
        );
        if (drift.ok && metrics.ok) this.show(await drift.json(), await metrics.json());
        else this.status(`The model's log cannot be read here (${drift.status}).`);
      } while (this.again);
    } catch {
      /* the follow loop tries again */
    } finally {
      this.busy = false;
    }
  }

  status(text) {
    this.root.querySelector(".monitor-status").textContent = text;
  }

  show(report, metrics) {
    const card = this.model.card ?? {};
    const features = Object.fromEntries((card.features ?? []).map((f) => [f.name, f]));
    this.root.dataset.records = report.records;
    this.status(
      report.reason
        ? `Drift: ${report.reason}.`
        : `Drift over the last ${report.records} predictions of version ${report.version}: ` +
            "each feature's recent inputs (colour) against training (grey). PSI under 0.1: " +
            "no change; 0.1 to 0.25: moderate shift; 0.25 and over: large shift.",
    );
    this.root.querySelector(".monitor-metrics").textContent = metricsSentence(metrics);
    const figures = report.features.map((feature) => {
      const title = titleOf(features[feature.name] ?? { name: feature.name });
      const sentence = featureSentence(feature, title);
      const figure = element("figure", null, "drift-feature");
      figure.dataset.feature = feature.name;
      figure.dataset.verdict = feature.verdict;
      figure.dataset.psi = feature.psi ?? "";
      const caption = element("figcaption");
      caption.append(
        element("strong", title),
        " ",
        element("span", feature.verdict, `verdict ${feature.verdict.replaceAll(" ", "-")}`),
      );
      figure.append(caption, chart(feature, sentence), element("p", sentence, "sr-only"));
      return figure;
    });
    this.root.querySelector(".drift-features").replaceChildren(...figures);
  }
}

function metricsSentence(metrics) {
  if (!metrics.labelled) {
    return (
      `No true outcome yet for the ${metrics.predictions} recent predictions: send labels ` +
      "(POST /v1/models/<name>/labels, or course.monitor.label) to see how the model does."
    );
  }
  const shown = Object.entries(metrics.metrics)
    .map(([name, value]) => `${name.replace("_", " ")} ${value == null ? "-" : value.toFixed(3)}`)
    .join(", ");
  return `On its last ${metrics.labelled} labelled predictions: ${shown}.`;
}
