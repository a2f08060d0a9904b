// The documentation's code blocks, for the tests that run them as written.
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./stack";

/** The text of docs/<page>.md. */
export function docPage(page: string): string {
    return fs.readFileSync(path.join(ROOT, "docs", `${page}.md`), "utf8");
}

/** The first TypeScript block of docs/<page>.md. */
export function docExample(page: string): string {
    const block = /```ts\n([\s\S]*?)```/.exec(docPage(page));
    if (!block) throw new Error(`docs/${page}.md has no ts block`);
    return block[1];
}

/** The package's import specifier in the README's examples. */
export const PACKAGE_NAME = "runbook-as-code";
