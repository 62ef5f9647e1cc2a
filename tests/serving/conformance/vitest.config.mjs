// vitest settings for the conformance run: only our entry file, no watch mode.
// testTimeout: some tests spend seconds of client CPU checking 100 KB byte by byte; on a loaded
// 2-core CI machine that alone can pass vitest's 5 s default. Tests that time the server set
// their own limits, so a longer default hides no slow server answer.
export default {
  test: {
    include: ["conformance.test.mjs"],
    testTimeout: 30000,
    hookTimeout: 30000,
    watch: false,
  },
}
