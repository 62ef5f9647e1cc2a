// deltas.js: compact deltas (docs/PROTOCOL.md, "Compact deltas", protocol v1.1), rebuilt.
//
// A compact subscription sends a delta whose envelope equals the previous delta's as
// {"o": offset, "d": text, "t": ms}: `t` counts from the ts of the last delta sent in full.
// This decoder keeps that reference and rebuilds the whole event, so the page sees the same
// events either way. Pure: no DOM, no network. One decoder per subscription (a reconnect
// starts a new one: its first delta comes in full).

export class DeltaDecoder {
  constructor() {
    this.reference = null; // the last delta received in full
    this.referenceMs = 0;
  }

  /** A full event was received: a delta becomes the reference of the compact ones. */
  event(event) {
    if (event.type === "delta") {
      this.reference = event;
      this.referenceMs = Math.round(event.ts * 1000);
    }
  }

  /** A compact item {o, d, t} -> the full event it stands for. */
  item(item) {
    const reference = this.reference;
    if (reference === null) throw new Error("a compact delta before any full delta");
    return {
      offset: item.o,
      type: "delta",
      session: reference.session,
      run: reference.run,
      agent: reference.agent,
      device: reference.device,
      ts: (this.referenceMs + item.t) / 1000, // integer milliseconds: exact, like the full form
      data: { text: item.d },
    };
  }
}
