// Peer server for the side-by-side benchmark: Vercel's `resumable-stream` (Redis pub/sub) behind
// plain node:http, serving token streams as SSE.
//
//   REDIS_URL=redis://127.0.0.1:P node server.js PORT
//
//   POST /chat/{id}?n=N&rate=R&period=K&gate=1
//        creates the stream with createNewResumableStream and returns it as SSE to this caller
//        (the producer's own reader). N tokens; R tokens/s (0 = as fast as possible); token i is
//        "w{i % K}" (with a leading space after the first), in the Vercel AI SDK UI-message
//        stream shape: `data: {"type":"text-delta","id":"0","delta":" w7"}\n\n`, preceded by
//        `data: {"type":"start"}` and followed by `data: {"type":"finish"}` and `data: [DONE]`.
//        gate=1: production waits for POST /chat/{id}/go (so readers can attach first).
//   POST /chat/{id}/go   opens the gate.
//   GET  /chat/{id}?skip=C
//        resumeExistingStream(id, C): C = characters of the stream already seen (omit: from the
//        start). 404 if no such stream, 422 if it has finished ("Stream is already done").
//
// Vendored unchanged (but for these three lines) from ../shared/tools/resumable_peer/server.js, the peer of
// issue 21; benchmarks/paced_bench.py installs it here with `npm ci` (package-lock.json pins it).
"use strict";

const http = require("node:http");
const { createResumableStreamContext } = require("resumable-stream");

const port = Number(process.argv[2] || 18100);
const ctx = createResumableStreamContext({ waitUntil: null });
const gates = new Map(); // id -> {promise, open}

function makeGate(id) {
  let open;
  const promise = new Promise((resolve) => (open = resolve));
  const gate = { promise, open };
  gates.set(id, gate);
  return gate;
}

function tokenStream(n, rate, period, gate) {
  let i = -1; // -1: the start event
  let anchor = 0;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  return new ReadableStream({
    async pull(controller) {
      if (i === -1) {
        if (gate) await gate.promise;
        anchor = performance.now();
        controller.enqueue('data: {"type":"start"}\n\n');
        i = 0;
        return;
      }
      if (i >= n) {
        controller.enqueue('data: {"type":"finish"}\n\n');
        controller.enqueue("data: [DONE]\n\n");
        controller.close();
        return;
      }
      if (rate > 0) {
        const delay = anchor + (i * 1000) / rate - performance.now();
        if (delay > 1) await sleep(delay);
      }
      const word = (i === 0 ? "w" : " w") + (i % period);
      controller.enqueue(`data: {"type":"text-delta","id":"0","delta":"${word}"}\n\n`);
      i += 1;
    },
  });
}

async function pipe(stream, res) {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  res.flushHeaders();
  const reader = stream.getReader();
  let closed = false;
  res.on("close", () => {
    closed = true;
    reader.cancel().catch(() => {});
  });
  try {
    while (!closed) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
  } catch (e) {
    // reader cancelled because the client went away
  }
  if (!closed) res.end();
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://x");
    const parts = url.pathname.split("/").filter(Boolean); // chat, id, [go]
    if (parts[0] !== "chat" || !parts[1]) {
      res.writeHead(404).end();
      return;
    }
    const id = parts[1];
    if (req.method === "POST" && parts[2] === "go") {
      const gate = gates.get(id);
      if (!gate) return res.writeHead(404).end("no gate");
      gates.delete(id);
      gate.open();
      return res.writeHead(204).end();
    }
    if (req.method === "POST") {
      req.resume();
      const n = Number(url.searchParams.get("n") || 100);
      const rate = Number(url.searchParams.get("rate") || 0);
      const period = Number(url.searchParams.get("period") || 1000);
      const gate = url.searchParams.get("gate") === "1" ? makeGate(id) : null;
      const stream = await ctx.createNewResumableStream(id, () =>
        tokenStream(n, rate, period, gate)
      );
      return pipe(stream, res);
    }
    if (req.method === "GET") {
      const skipText = url.searchParams.get("skip");
      const skip = skipText === null ? undefined : Number(skipText);
      const stream = await ctx.resumeExistingStream(id, skip);
      if (stream === undefined) return res.writeHead(404).end("no such stream");
      if (stream === null) return res.writeHead(422).end("Stream is already done");
      return pipe(stream, res);
    }
    res.writeHead(405).end();
  } catch (e) {
    console.error("request failed:", e);
    if (!res.headersSent) res.writeHead(500).end(String(e));
    else res.destroy();
  }
});
server.keepAliveTimeout = 65000;
server.listen(port, "127.0.0.1", () => console.log(`peer listening on ${port}`));
