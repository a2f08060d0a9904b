// Loads the repository's stack files the way index.ts does, for tests.
import * as path from "node:path";
import { parseStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/types";
import { rawFromStackFile } from "../../config/stack-file";
import { ROOT } from "../../commands/engine";

export { ROOT };

export function stackConfig(stack: string): StackConfig {
    return parseStackConfig(rawFromStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`)));
}

/** A deep copy of a stack file's raw values, to change one field per test case. */
export function rawValues(stack: string): Record<string, any> {
    return JSON.parse(JSON.stringify(rawFromStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`)).values));
}
