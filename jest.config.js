/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    // Type-checking happens once in `npm run typecheck` (tsc); per-file checking of the
    // large @pulumi/kubernetes typings would make every test file take ~10 s.
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
    testTimeout: 30000,
    // The end-to-end suites wait on the Pulumi engine much of the time; two workers keep both cores busy.
    maxWorkers: 2,
    // The live-cluster suites start the local cluster on first use; the teardown stops it
    // again unless it was running before the tests.
    globalSetup: "<rootDir>/test/e2e/global-setup.ts",
    globalTeardown: "<rootDir>/test/e2e/global-teardown.ts",
};
