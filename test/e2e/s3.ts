// A real S3-compatible server (versitygw, built from its Go module by scripts/s3-server.sh)
// on loopback, its objects in a scratch directory, and Debian's AWS CLI to talk to it: for
// the backup upload and restore tests and the Pulumi state backend. Started and stopped by
// the tests; nothing of it outlives them.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort, stopProcess } from "./processes";
import { ROOT } from "../../commands/engine";

export const VERSITYGW = path.join(ROOT, ".toolchain", "servers", "versitygw");
/** Debian's awscli, by its path (another `aws` may come first on PATH). */
export const AWS = "/usr/bin/aws";
export const REGION = "eu-west-1";

export interface RunningS3 {
    endpoint: string;
    /** The credentials and region an S3 client needs for this server. */
    env: Record<string, string>;
    /** Runs Debian's aws against this server. */
    aws(args: string[]): { code: number | null; out: string; err: string };
    stop(): Promise<void>;
}

/** `host`: the address it listens on (loopback, or the local cluster's node address for pods). */
export async function startS3(dir: string, host = "127.0.0.1"): Promise<RunningS3> {
    if (!fs.existsSync(VERSITYGW))
        throw new Error("versitygw is missing: run `bash scripts/s3-server.sh` (scripts/test.sh does)");
    if (!fs.existsSync(AWS))
        throw new Error(
            "Debian's awscli is missing: run `bash scripts/system-packages.sh --tests` (scripts/test.sh does)",
        );
    const data = path.join(dir, "data");
    const meta = path.join(dir, "meta");
    fs.mkdirSync(data, { recursive: true });
    fs.mkdirSync(meta, { recursive: true });
    const port = await freePort(host);
    const access = "runbook-test";
    const secret = "runbook-test-secret-key";
    const log = fs.openSync(path.join(dir, "versitygw.log"), "w");
    // Metadata (the dump's recorded sha256) in a sidecar directory: no xattrs needed.
    const child: ChildProcess = spawn(
        VERSITYGW,
        [
            "--access",
            access,
            "--secret",
            secret,
            "--region",
            REGION,
            "--port",
            `${host}:${port}`,
            "--quiet",
            "posix",
            "--sidecar",
            meta,
            data,
        ],
        {
            stdio: ["ignore", log, log],
        },
    );
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const stop = () => stopProcess(child, exited, () => child.kill("SIGTERM"), 10_000);
    const endpoint = `http://${host}:${port}`;
    const env = {
        AWS_ACCESS_KEY_ID: access,
        AWS_SECRET_ACCESS_KEY: secret,
        AWS_REGION: REGION,
        AWS_EC2_METADATA_DISABLED: "true",
    };
    const aws = (args: string[]) => {
        const r = spawnSync(AWS, ["--endpoint-url", endpoint, ...args], {
            encoding: "utf8",
            env: { PATH: "/usr/bin:/bin", HOME: dir, ...env },
            timeout: 60_000,
        });
        return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const until = Date.now() + 20_000;
    while (aws(["s3api", "list-buckets"]).code !== 0) {
        if (child.exitCode !== null || Date.now() > until) {
            await stop();
            throw new Error(
                `versitygw did not start:\n${fs.readFileSync(path.join(dir, "versitygw.log"), "utf8").slice(-2000)}`,
            );
        }
        await new Promise((r) => setTimeout(r, 200));
    }
    return { endpoint, env, aws, stop };
}
