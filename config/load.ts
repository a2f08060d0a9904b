// Parses a stack's `runbook:*` configuration: the schema (config/schema.ts), the rules
// that span fields (config/rules.ts), the defaults (config/resolve.ts) and the components'
// own checks, every problem reported at once (config/errors.ts).
import { serviceProblems } from "./component-args";
import { ConfigError, formatPath, issueMessages } from "./errors";
import { resolveService } from "./resolve";
import { crossFieldProblems } from "./rules";
import { CONFIG_NAMESPACE, SECRET_KEYS, stackConfigSchema } from "./schema";
import type { RawConfig, StackConfig } from "./types";
import { schedulingProblems } from "../components/scheduling";

/**
 * Parses the `runbook:*` values of one stack. Throws one ConfigError listing every
 * problem (config path, what was expected, what was given); returns the resolved config.
 */
export function parseStackConfig(raw: RawConfig): StackConfig {
    const problems: string[] = [];
    for (const key of SECRET_KEYS) {
        if (raw.values[key] !== undefined && !raw.secretKeys.has(key))
            problems.push(
                `${formatPath([key])}: expected a Pulumi secret (pulumi config set --secret ` +
                    `${CONFIG_NAMESPACE}:${key} …), got a plain-text value`,
            );
    }
    const parsed = stackConfigSchema.safeParse(raw.values, { reportInput: true });
    if (!parsed.success) throw new ConfigError([...problems, ...parsed.error.issues.flatMap(issueMessages)]);
    const cfg = parsed.data;
    problems.push(...crossFieldProblems(cfg, raw.values.databaseUrl !== undefined));
    const services = Object.keys(cfg.services)
        .sort()
        .map((name) => resolveService(name, cfg.services[name], cfg.environment));
    // The checks the components make, on what they would be given (defaults applied).
    problems.push(
        ...[...services.flatMap(serviceProblems), ...schedulingProblems(cfg.scheduling, ["scheduling"])].map(
            (p) => `${formatPath(p.path)}: ${p.message}`,
        ),
    );
    if (problems.length > 0) throw new ConfigError(problems);

    return {
        environment: cfg.environment,
        partOf: cfg.partOf,
        kubernetes: cfg.kubernetes,
        namespace: cfg.namespace,
        services,
        backup: cfg.backup,
        alerts: cfg.alerts,
        release: cfg.release,
        analysis: cfg.analysis,
        scheduling: cfg.scheduling,
        aws: cfg.aws,
        hasDatabaseUrl: raw.values.databaseUrl !== undefined,
    };
}
