// Every link of the README and docs/ that stays in the repository reaches a file that exists
// and, when it names one, a heading of that file (GitHub's anchors).
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../util/stack";

const pages = [
    "README.md",
    "components/README.md",
    ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => path.join("docs", f)),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
const anchor = (heading: string) =>
    heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\- _]/gu, "")
        .replace(/ /g, "-");

/** The headings of a Markdown file, outside code fences. */
function anchors(file: string): Set<string> {
    let fence = false;
    const out = new Set<string>();
    for (const line of fs.readFileSync(path.join(ROOT, file), "utf8").split("\n")) {
        if (line.startsWith("```")) fence = !fence;
        const m = /^#{1,6} (.*)$/.exec(line);
        if (m && !fence) out.add(anchor(m[1]));
    }
    return out;
}

/** The links of a page that point inside the repository: [text](target). */
function localLinks(file: string): string[] {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
    return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));
}

test("the README is the short entry point and links every page of docs/", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThan(260);
    for (const page of pages.filter((p) => p !== "README.md"))
        expect(localLinks("README.md")).toContainEqual(expect.stringMatching(new RegExp(`^${page}(#|$)`)));
});

test.each(pages)("%s: every local link reaches its file and heading", (page) => {
    const broken: string[] = [];
    for (const link of localLinks(page)) {
        const [target, hash] = link.split("#");
        const file = target === "" ? page : path.normalize(path.join(path.dirname(page), target));
        if (!fs.existsSync(path.join(ROOT, file))) broken.push(`${link}: no file ${file}`);
        else if (hash !== undefined && file.endsWith(".md") && !anchors(file).has(hash))
            broken.push(`${link}: no heading #${hash} in ${file}`);
    }
    expect(broken).toEqual([]);
});
