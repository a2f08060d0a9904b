// The README's configuration reference is checked against the schema: a key added to the
// schema without documentation fails here.
import * as fs from "node:fs";
import * as path from "node:path";
import type { z } from "zod";
import { stackConfigSchema } from "../../config/schema";
import { ROOT } from "../util/stack";

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

describe("README configuration reference", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Configuration reference"), readme.indexOf("## Validating a stack"));
    const rows = section.split("\n").filter((l) => l.startsWith("| `"));
    const all = leaves(stackConfigSchema);

    test("the schema has the keys this check walks", () => {
        expect(all.length).toBeGreaterThan(60);
        expect(all).toContainEqual(["services", "<name>", "canary", "weight"]);
    });

    test.each(all.map((p) => [p.join(".")]))("%s is documented", (key) => {
        const [first, ...rest] = key.split(".");
        const head = first === "services" ? "services.<name>" : first;
        const words = first === "services" ? rest.slice(1) : rest;
        const documented = rows.some(
            (row) =>
                row.includes(`\`${head}`) &&
                words.every((w) => new RegExp(`\\b${w.replace(/[<>]/g, "")}\\b`).test(row)),
        );
        expect(documented).toBe(true);
    });
});
