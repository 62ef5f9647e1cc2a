// Runs the pinned Durable Streams conformance suite against the server at CONFORMANCE_TEST_URL.
// Started by test_conformance.py; the suite's own CLI cannot find its tests from a local install,
// so vitest runs this file, which registers every test of the suite.
import { runConformanceTests } from "@durable-streams/server-conformance-tests"

const baseUrl = process.env.CONFORMANCE_TEST_URL
if (!baseUrl) {
  throw new Error("set CONFORMANCE_TEST_URL to the server's base URL, e.g. http://127.0.0.1:4437")
}
runConformanceTests({ baseUrl })
