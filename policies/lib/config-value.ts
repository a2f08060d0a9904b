/**
 * A config value as the engine hands it (a string), structured values decoded: what
 * starts like a JSON object or array and parses as one is that; anything else stays text.
 */
export function decodeConfigValue(v: string): unknown {
    const t = v.trim();
    if (t.startsWith("{") || t.startsWith("[")) {
        try {
            return JSON.parse(t) as unknown;
        } catch {
            return v;
        }
    }
    return v;
}
