// The configuration reference (docs/configuration.md) is checked against the schema: a key added to the
// schema without documentation fails here.
import type { z } from "zod";
import { stackConfigSchema } from "../../config/schema";
import { docPage } from "../util/readme";

type Def = { type: string; [k: string]: unknown };
const defOf = (s: unknown) => (s as { _zod: { def: Def } })._zod.def;

/** Paths of the schema's leaves; a map of services is written `services.<name>`. */
function leaves(schema: z.ZodType, prefix: string[] = []): string[][] {
    const def = defOf(schema);
    switch (def.type) {
        case "optional":
        case "default":
        case "nullable":
            return leaves(def.innerType as z.ZodType, prefix);
        case "object":
            return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([k, v]) =>
                leaves(v, [...prefix, k]),
            );
        case "record":
            return defOf(def.valueType).type === "object"
                ? leaves(def.valueType as z.ZodType, [...prefix, "<name>"])
                : [prefix];
        default:
            return [prefix];
    }
}

/**
 * The keys a row's first cell names: `a.b.c` / `.d` / `.e` is a.b.c, a.b.d and a.b.e (a
 * suffix of k segments replaces the last k segments of the first key); `a.b` / `x.y`
 * names both in full.
 */
function rowKeys(row: string): string[] {
    const cell = row.split(" | ")[0].replace(/^\| /, "");
    const names = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const first = names[0].split(".");
    return names.map((n) => {
        if (!n.startsWith(".")) return n;
        const suffix = n.slice(1).split(".");
        return [...first.slice(0, first.length - suffix.length), ...suffix].join(".");
    });
}

describe("the configuration reference (docs/configuration.md)", () => {
    const section = docPage("configuration");
    const rows = section.split("\n").filter((l) => l.startsWith("| `"));
    const documented = new Map(rows.flatMap((row) => rowKeys(row).map((k) => [k, row] as const)));
    const all = leaves(stackConfigSchema).map((p) => p.join("."));

    test("the schema has the keys this check walks, and the rows name keys", () => {
        expect(all.length).toBeGreaterThan(60);
        expect(all).toContain("services.<name>.canary.weight");
        expect(rowKeys("| `a.b.c` / `.d` / `.x.e` | int |")).toEqual(["a.b.c", "a.b.d", "a.x.e"]);
        expect(rowKeys("| `a.b` / `c.d` | int |")).toEqual(["a.b", "c.d"]);
    });

    // A key is documented by its own row, or by the row of the object it belongs to (a probe,
    // a router), never by a word that happens to appear in another row's description.
    test.each(all.map((k) => [k]))("%s has its own row", (key) => {
        const parts = key.split(".");
        const owner = parts.map((_, i) => parts.slice(0, parts.length - i).join(".")).find((k) => documented.has(k));
        expect(owner).toBeDefined();
    });

    test.each(rows.flatMap(rowKeys).map((k) => [k]))("the row for %s names a key of the schema", (key) => {
        expect(all.some((leaf) => leaf === key || leaf.startsWith(`${key}.`))).toBe(true);
    });
});
