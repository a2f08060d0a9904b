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
};
