// Start the Durable Streams reference server (@durable-streams/server, pinned in package.json
// next to this file), for the benchmarks in benchmarks/.
//
// usage: node reference_server.mjs --port N [--host H] [--data-dir DIR] [--long-poll-ms N]
//   memory store by default; --data-dir DIR selects its file store (log files + LMDB metadata).
// Prints one "listening on URL" line when ready; SIGTERM or SIGINT stops it.
import { DurableStreamTestServer } from "@durable-streams/server";

const options = { port: 0, host: "127.0.0.1", longPollTimeout: 30000 };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const flag = args[i];
  const value = args[++i];
  if (value === undefined) fail(`${flag} needs a value`);
  if (flag === "--port") options.port = Number(value);
  else if (flag === "--host") options.host = value;
  else if (flag === "--data-dir") options.dataDir = value;
  else if (flag === "--long-poll-ms") options.longPollTimeout = Number(value);
  else fail(`unknown option ${flag}`);
}

function fail(message) {
  console.error(`reference_server.mjs: ${message}`);
  console.error("usage: node reference_server.mjs --port N [--host H] [--data-dir DIR] [--long-poll-ms N]");
  process.exit(2);
}

const server = new DurableStreamTestServer(options);
await server.start();
const storage = options.dataDir ? `file:${options.dataDir}` : "memory";
console.log(`listening on ${server.url} (storage=${storage})`);

async function stop() {
  await Promise.race([server.stop(), new Promise((resolve) => setTimeout(resolve, 2000))]);
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
