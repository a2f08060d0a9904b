// The documentation's code blocks, for the tests that run them as written.
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./stack";

/** The text of docs/<page>.md, or of a Markdown file by its path (components/README.md). */
export function docPage(page: string): string {
    return fs.readFileSync(path.join(ROOT, page.endsWith(".md") ? page : path.join("docs", `${page}.md`)), "utf8");
}

/** The first TypeScript block of a page (as docPage names it). */
export function docExample(page: string): string {
    const block = /```ts\n([\s\S]*?)```/.exec(docPage(page));
    if (!block) throw new Error(`${page} has no ts block`);
    return block[1];
}

/** The library's manual: its package's README. */
export const LIBRARY_MANUAL = "components/README.md";

/** The package's import specifier in the README's examples. */
export const PACKAGE_NAME = "runbook-as-code";
