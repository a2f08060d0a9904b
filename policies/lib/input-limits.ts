// Limits checked on YAML and JSON text before a parser sees it: files that come with a pull
// request (stack files, signature files, policy configs) must fail fast with a clear error,
// never exhaust memory or the stack. Parsers build trees in proportion to size and depth.

export class InputLimitError extends Error {}

export interface Limits {
    maxBytes: number;
    /** Deepest nesting of flow collections ([ {) or block levels (indentation, "- "). */
    maxDepth: number;
}

/**
 * The deepest nesting the text can hold, over-estimated (brackets in plain scalars count):
 * flow brackets outside quotes, and block levels from indentation and leading "- ".
 */
export function nestingDepth(text: string): number {
    let deepest = 0;
    let flow = 0;
    let quote: string | undefined;
    for (const line of text.split("\n")) {
        const indent = /^[ -]*/.exec(line)![0];
        const dashes = indent.match(/-/g)?.length ?? 0;
        const block = (indent.length - dashes) / 2 + dashes;
        if (flow === 0 && quote === undefined) deepest = Math.max(deepest, block);
        for (let i = 0; i < line.length; i++) {
            const c = line[i];
            if (quote !== undefined) {
                if (c === "\\" && quote === '"') i++;
                else if (c === quote) quote = undefined;
            } else if (c === '"' || c === "'") quote = c;
            else if (c === "#" && (i === 0 || line[i - 1] === " ") && flow === 0) break;
            else if (c === "[" || c === "{") deepest = Math.max(deepest, block + ++flow);
            else if ((c === "]" || c === "}") && flow > 0) flow--;
        }
        // A single-quoted or plain scalar does not span lines in a way that matters here.
        if (quote === "'") quote = undefined;
    }
    return deepest;
}

/** Throws InputLimitError naming `name` when the text is too big or too deep to parse safely. */
export function checkLimits(text: string, name: string, limits: Limits): void {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > limits.maxBytes)
        throw new InputLimitError(`${name}: ${bytes} bytes, more than the ${limits.maxBytes} it may have`);
    const depth = nestingDepth(text);
    if (depth > limits.maxDepth)
        throw new InputLimitError(`${name}: nested ${depth} levels deep, more than the ${limits.maxDepth} it may have`);
}
