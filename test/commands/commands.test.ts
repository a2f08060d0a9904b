// Every command the README names answers --help with its usage, and an error no command
// expected becomes one line saying what failed and what to do.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { failureLine } from "../../commands/errors";
import { ROOT } from "../util/stack";

jest.setTimeout(120_000);

const COMMANDS = [
    "release",
    "rollback",
    "status",
    "approve",
    "window",
    "validate",
    "ci:preview",
    "ci:deploy",
    "load",
    "cluster",
];

test.each(COMMANDS)("npm run --silent %s -- --help prints its usage and exits 0", (command) => {
    const r = spawnSync("npm", ["run", "--silent", command, "--", "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`npm run --silent ${command} -- `);
});

test("the commands run on Node.js 22 or newer, from a shell whose node may be older", () => {
    // The shell's PATH without the project's Node.js: what an engineer's terminal has.
    const shellPath = (process.env.PATH ?? "")
        .split(":")
        .filter((d) => d !== path.join(ROOT, ".node", "bin"))
        .join(":");
    const r = spawnSync("sh", [path.join(ROOT, "scripts", "node.sh"), "-p", "process.versions.node"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, PATH: shellPath },
    });
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim().split(".")[0])).toBeGreaterThanOrEqual(22);
    // Every command starts node through it (package.json scripts).
    const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
    };
    for (const c of COMMANDS.filter((c) => c !== "cluster")) expect(scripts[c]).toMatch(/^sh scripts\/node\.sh /);
});

describe("failureLine", () => {
    /** What the Automation API throws when the CLI fails: its whole output in one message. */
    const commandError = (stderr: string) =>
        new Error(
            `code: 255\n stdout: \n stderr: ${stderr}\n err?: Error: exit status 255\n    at Object.x (a.js:1:1)`,
        );

    test("a passphrase the engine was not given: the engine's line and what to set", () => {
        const line = failureLine(
            commandError(
                "error: getting stack configuration: get stack secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables",
            ),
        );
        expect(line).toBe(
            "getting stack configuration: get stack secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables; the stack's secrets need its passphrase: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) and run again",
        );
        expect(line).not.toContain("\n");
    });

    test("a stack that does not exist, a held lock, a cluster that does not answer", () => {
        expect(failureLine(commandError("error: no stack named 'prod' found"))).toMatch(
            /^no stack named 'prod' found; the stack does not exist in this backend: `bash scripts\/up.sh` creates the local one/,
        );
        expect(failureLine(commandError("error: the stack is currently locked by 1 lock(s)"))).toMatch(
            /another update of this stack holds its lock/,
        );
        expect(
            failureLine(
                new Error(
                    "kubectl get deployment api-blue: The connection to the server 127.0.0.1:6443 was refused - connection refused",
                ),
            ),
        ).toMatch(/; the cluster does not answer: `npm run --silent cluster -- up` starts the local one$/);
    });

    test("anything else: its first line, and where the details are", () => {
        expect(failureLine(new TypeError("x is not a function\n    at y (z.ts:1:1)"))).toBe(
            "x is not a function (RUNBOOK_DEBUG=1 shows the details)",
        );
    });
});

test("a command's unexpected failure is one line, not a stack trace", () => {
    // status on a stack whose kubeconfig points at nothing that answers.
    const r = spawnSync(
        "npx",
        [
            "--no-install",
            "tsx",
            path.join(ROOT, "commands", "main.ts"),
            "status",
            "--stack",
            "local",
            "--kubeconfig",
            "/dev/null",
        ],
        { cwd: ROOT, encoding: "utf8", env: { ...process.env, RUNBOOK_DEBUG: "" } },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^status: failed: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
});

test("checking a stack file and starting a rollback load no Pulumi SDK (their start-up is traffic's wait)", () => {
    const probe = [
        'require("./config/load");',
        'require("./commands/rollback");',
        "const sdk = Object.keys(require.cache).filter((k) => /node_modules[\\\\/]@pulumi[\\\\/]/.test(k));",
        "process.stdout.write(JSON.stringify(sdk));",
    ].join("\n");
    const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), ["-e", probe], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual([]);
});

test("the entry point names its commands when given one it does not have (exit 2)", () => {
    const r = spawnSync(
        path.join(ROOT, "node_modules", ".bin", "tsx"),
        [path.join(ROOT, "commands", "main.ts"), "deploy"],
        {
            cwd: ROOT,
            encoding: "utf8",
        },
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
        'runbook: no command "deploy"; one of release, rollback, status, approve, window, validate, load, ci:preview, ci:deploy\n',
    );
});
