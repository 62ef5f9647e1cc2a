// vitest settings for the conformance run: only our entry file, no watch mode.
export default {
  test: { include: ["conformance.test.mjs"], hookTimeout: 30000, watch: false },
}
