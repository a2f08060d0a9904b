// ESLint: typescript-eslint's recommended rules, and Pulumi's rule against putting an
// Output in a template literal (it renders as a warning string, not the value; use
// pulumi.interpolate). That rule needs type information, hence the project service.
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: [
            "node_modules/",
            ".toolchain/",
            ".cluster/",
            ".e2e/",
            ".pulumi-state/",
            "rendered/",
            "coverage/",
            "**/dist/",
            ".build/",
            "**/*.js",
            "**/*.mjs",
        ],
    },
    ...tseslint.configs.recommended,
    {
        // The one CommonJS file: Node.js preloads it with -r, before any loader exists.
        files: ["**/*.cjs"],
        languageOptions: { sourceType: "commonjs" },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
    {
        // Long functions hide the rules they hold: the program, its components and commands,
        // the pure logic and the policies keep each function to a screen (a constructor reads
        // as a sequence of named builders).
        files: [
            "index.ts",
            "components/**/*.ts",
            "config/**/*.ts",
            "lib/**/*.ts",
            "policies/**/*.ts",
            "commands/**/*.ts",
            "scripts/**/*.ts",
        ],
        rules: { "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }] },
    },
    {
        // components/ is a package: its directory resolves to the package's built dist/, so
        // the program and the tests import its sources by file.
        files: ["**/*.ts"],
        ignores: ["components/**"],
        rules: {
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        {
                            regex: "^(\\.\\./)+components$",
                            message: "import ../components/index: the directory resolves to the package's built dist/",
                        },
                    ],
                },
            ],
        },
    },
    {
        // The library stands apart from the program: the program (program/, config/, index.ts)
        // and the commands depend on it, never the reverse. What it shares with the policy
        // pack (labels, routers, release annotations) it imports from policies/.
        files: ["components/**/*.ts"],
        rules: {
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        {
                            group: [
                                "../config",
                                "../config/*",
                                "../program",
                                "../program/*",
                                "../lib/*",
                                "../commands/*",
                            ],
                            message:
                                "components/ is the library: it imports nothing of the program (config/, program/, lib/, commands/)",
                        },
                        {
                            group: ["../index", "../scripts/*", "../test/*", "../bench/*"],
                            message: "components/ is the library: it imports nothing of the program",
                        },
                    ],
                },
            ],
        },
    },
    {
        // Lines fit 140 characters outside the tests: long messages are built from parts.
        files: ["**/*.ts"],
        ignores: ["test/**"],
        rules: { "max-len": ["error", { code: 140, ignoreUrls: true }] },
    },
    {
        // Policies read the engine's untyped resource properties (the SDK types them
        // Record<string, any>); tests, kubectl's JSON, kubeconfigs and the status summary read
        // Kubernetes objects of every shape.
        files: ["policies/**/*.ts", "test/**/*.ts", "commands/kube.ts", "commands/kube-api.ts", "commands/status.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
