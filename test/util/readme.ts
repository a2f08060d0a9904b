// The README's code blocks, for the tests that run them as written.
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./stack";

/** The first TypeScript block of the README's section `## heading`. */
export function readmeExample(heading: string): string {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
    if (!section) throw new Error(`README has no section '## ${heading}'`);
    const block = /```ts\n([\s\S]*?)```/.exec(section);
    if (!block) throw new Error(`README section '${heading}' has no ts block`);
    return block[1];
}

/** The package's import specifier in the README's examples. */
export const PACKAGE_NAME = "runbook-as-code";
