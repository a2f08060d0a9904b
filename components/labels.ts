// The recommended app.kubernetes.io/* labels, and the selector labels that must stay
// stable for the life of a Deployment (a selector cannot change in place).
import * as crypto from "node:crypto";
import { APP_LABEL, COMPONENT_LABEL, ENVIRONMENT_LABEL } from "../policies/lib/well-known";

/** The two colours of a blue/green deployment. */
export type Color = "blue" | "green";

export const MANAGED_BY = "pulumi";

export interface LabelContext {
    app: string;
    partOf: string;
    environment: string;
    version?: string;
    component?: string;
}

/** The version of what a workload runs: its image's tag (or a digest's first characters). */
export const VERSION_LABEL = "app.kubernetes.io/version";

export function recommendedLabels(c: LabelContext): Record<string, string> {
    const labels: Record<string, string> = {
        [APP_LABEL]: c.app,
        "app.kubernetes.io/instance": `${c.app}-${c.environment}`,
        "app.kubernetes.io/part-of": c.partOf,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        [ENVIRONMENT_LABEL]: c.environment,
    };
    if (c.component !== undefined) labels[COMPONENT_LABEL] = c.component;
    if (c.version !== undefined) labels[VERSION_LABEL] = labelValue(c.version);
    return labels;
}

/** Selector of every pod of one app, whatever its colour or track. */
export function appSelector(app: string, environment: string): Record<string, string> {
    return { [APP_LABEL]: app, "app.kubernetes.io/instance": `${app}-${environment}` };
}

/** The component of the pods that serve an app's requests (its Deployments' pods). */
export const SERVING_COMPONENT = "server";

/**
 * Selector of the pods that serve an app's requests, whatever their colour or track: what
 * its Services and its PodDisruptionBudget select. Not its other pods: a smoke-test Job's
 * pod carries the app's name and colour too, and was in the preview and metrics Services'
 * endpoints on the local cluster (the active Service's too, had the colour been live), and
 * in the PodDisruptionBudget's count.
 */
export function servingSelector(app: string, environment: string): Record<string, string> {
    return { ...appSelector(app, environment), [COMPONENT_LABEL]: SERVING_COMPONENT };
}

/** Kubernetes label values: at most 63 characters of [A-Za-z0-9_.-], alphanumeric ends. */
export function labelValue(s: string): string {
    const cleaned = s.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 63);
    return cleaned.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "");
}

/** The version label's value for an image (servingLabels): its version, as a label value. */
export const versionLabelValue = (image: string): string => labelValue(imageVersion(image));

/** The version part of an image reference: its tag, else the first 12 digest digits. */
export function imageVersion(image: string): string {
    const [ref, digest] = image.split("@sha256:");
    const last = ref.slice(ref.lastIndexOf("/") + 1);
    const colon = last.indexOf(":");
    if (colon >= 0) return last.slice(colon + 1);
    return digest !== undefined ? `sha256-${digest.slice(0, 12)}` : "unknown";
}

/**
 * The smoke-test Job of one colour, named after what it tests (colour, image, health
 * endpoints): `npm run rollback` looks it up to know a colour was tested with its image.
 */
export function smokeJobName(app: string, color: Color, image: string, healthEndpoints: string[]): string {
    const digest = crypto
        .createHash("sha256")
        .update(`${color}|${image}|${healthEndpoints.join(",")}`)
        .digest("hex")
        .slice(0, 8);
    return `${app}-smoke-${color}-${digest}`;
}
