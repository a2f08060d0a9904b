import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../util/stack";

const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const EXAMPLE = path.join(ROOT, "policies", "config", "example.json");

// The rules of typed approvals are judged here with a policy config in which production
// counts them; signed approvals have their own suites (test/lib, test/e2e/approve, policy).
const UNSIGNED = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "window-")), "unsigned.json");
fs.writeFileSync(
    UNSIGNED,
    JSON.stringify({ "enforce-deploy-gate": { environments: { production: { approvals: { signed: false } } } } }),
);

function windowCmd(args: string[], env: Record<string, string | undefined> = {}, signed = false) {
    const clean = {
        ...process.env,
        RUNBOOK_NOW: undefined,
        RUNBOOK_RELEASE_APPROVALS: undefined,
        RUNBOOK_RELEASE_OPERATOR: undefined,
        RUNBOOK_HOTFIX_POSTMORTEM: undefined,
        ...env,
    };
    const config = args.includes("--policy-config") || signed ? [] : ["--policy-config", UNSIGNED];
    const r = spawnSync(TSX, [path.join(ROOT, "commands", "main.ts"), "window", ...args, ...config], {
        encoding: "utf8",
        env: clean as NodeJS.ProcessEnv,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("npm run window", () => {
    test("production counts only signed approvals by default: without the stack's config to check them against, none count", () => {
        const r = windowCmd(
            ["--stack", "production", "--at", "2026-11-26T15:55:00Z"],
            { PULUMI_BACKEND_URL: `file://${path.dirname(UNSIGNED)}` },
            true,
        );
        expect(r.code).toBe(1);
        expect(r.out).toContain("needs 1 governance-sentinel approval from different people, has 0");
        expect(r.out).toContain(
            "signed approvals could not be checked: pulumi config --stack production failed: error: no stack named 'production' found",
        );
    });

    test("Thursday 15:55 in production: allowed (exit 0)", () => {
        const r = windowCmd(["--stack", "production", "--at", "2026-11-26T15:55:00Z"]);
        expect(r.code).toBe(0);
        expect(r.out).toBe(
            "ALLOWED: production deploy allowed at Thu 2026-11-26 15:55 UTC: inside allow window 'business-hours' (Mon–Thu 10:00–16:00) Thu 2026-11-26 10:00–Thu 2026-11-26 16:00 UTC\n",
        );
    });

    test("Thursday 16:00: denied with the next window (exit 1)", () => {
        const r = windowCmd(["--stack", "production", "--at", "2026-11-26T17:00:00+01:00"]);
        expect(r.code).toBe(1);
        expect(r.out).toBe(
            [
                "DENIED: production deploy blocked at Thu 2026-11-26 16:00 UTC: deploys are closed: outside every allow window ('business-hours'); next window opens Tue 2026-12-01 10:00 UTC (until Tue 2026-12-01 16:00 UTC)",
                "  - deploys are closed: outside every allow window ('business-hours')",
                "next window: Tue 2026-12-01 10:00 UTC – Tue 2026-12-01 16:00 UTC",
                "",
            ].join("\n"),
        );
    });

    test("--json, with an ad-hoc freeze from the policy config", () => {
        const r = windowCmd([
            "--stack",
            "production",
            "--at",
            "2027-03-16T11:00:00Z",
            "--policy-config",
            EXAMPLE,
            "--json",
        ]);
        expect(r.code).toBe(1);
        const j = JSON.parse(r.out);
        expect(j).toMatchObject({
            stack: "production",
            environment: "production",
            allowed: false,
            viaHotfix: false,
            nextWindow: { start: "2027-03-18T10:00:00.000Z", end: "2027-03-18T16:00:00.000Z" },
        });
        expect(j.reason).toBe(
            "inside deny window 'spring-launch' (product launch) Mon 2027-03-15 00:00–Thu 2027-03-18 00:00 UTC",
        );
    });

    test("a hotfix in the Christmas freeze with two board members and a postmortem: allowed", () => {
        const r = windowCmd([
            "--stack",
            "production",
            "--at",
            "2026-12-25T09:00:00Z",
            "--hotfix",
            "--postmortem",
            "PM-117",
            "--approvals",
            "kim:governance-board,ola:governance-board",
        ]);
        expect(r.code).toBe(0);
        expect(r.out).toMatch(
            /^ALLOWED: production deploy allowed at Fri 2026-12-25 09:00 UTC as a hotfix \(postmortem PM-117; approved by kim \(governance-board\), ola \(governance-board\)\) although inside deny window 'christmas'/,
        );
    });

    test("a hotfix with one board member and no postmortem: denied", () => {
        const r = windowCmd([
            "--stack",
            "production",
            "--at",
            "2026-12-25T09:00:00Z",
            "--hotfix",
            "--approvals",
            "kim:governance-board",
        ]);
        expect(r.code).toBe(1);
        expect(r.out).toContain("  - hotfix needs 2 governance-board approvals from different people, has 1\n");
        expect(r.out).toContain(
            "  - hotfix needs a postmortem reference (release.hotfix.postmortem or RUNBOOK_HOTFIX_POSTMORTEM)\n",
        );
    });

    test("self-approval in the window: denied", () => {
        const r = windowCmd(["--stack", "production", "--at", "2026-11-24T11:00:00Z", "--operator", "lee"]);
        expect(r.code).toBe(1);
        expect(r.out).toContain("lee cannot approve their own deploy (they are the operator)");
    });

    test("staging on Christmas day: allowed", () => {
        expect(windowCmd(["--stack", "staging", "--at", "2026-12-25T03:00:00Z"]).code).toBe(0);
    });

    test("RUNBOOK_NOW sets the clock", () => {
        expect(windowCmd(["--stack", "production"], { RUNBOOK_NOW: "2026-12-24T12:00:00Z" }).code).toBe(1);
        expect(windowCmd(["--stack", "production"], { RUNBOOK_NOW: "2026-11-24T12:00:00Z" }).code).toBe(0);
    });

    test.each([
        [
            ["--stack", "production", "--at", "tomorrow"],
            'window: --at: expected an ISO 8601 instant with offset such as 2026-11-26T15:55:00+01:00, got "tomorrow"',
        ],
        [
            ["--stack", "production", "--at", "2026-11-26T15:55:00"],
            "window: --at: expected an ISO 8601 instant with offset",
        ],
        [["--stack", "qa"], "window: unknown stack 'qa': Pulumi.qa.yaml not found (known: local, production, staging)"],
        [[], "window: --stack is required"],
        [
            ["--stack", "production", "--policy-config", "/nonexistent.json"],
            "window: policy config /nonexistent.json: ENOENT",
        ],
    ])("unusable input %j exits 2", (args, message) => {
        const r = windowCmd(args as string[]);
        expect(r.code).toBe(2);
        expect(r.err).toContain(message);
    });

    test("a bad policy config exits 2 naming the problem", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "window-"));
        const file = path.join(dir, "policy.json");
        fs.writeFileSync(
            file,
            JSON.stringify({ "enforce-deploy-gate": { environments: { production: { timeZone: "Mars/Olympus" } } } }),
        );
        const r = windowCmd(["--stack", "production", "--policy-config", file]);
        expect(r.code).toBe(2);
        expect(r.err).toContain(
            'enforce-deploy-gate.environments.production.timeZone: expected an IANA time zone such as Europe/Berlin, got "Mars/Olympus"',
        );
    });
});
