// The registry of canary routers: the one place that knows which exist. The component, the
// config schema, the rollback, the status command and the policy pack ask it; a new router
// is a module implementing Router (./router.ts) and one line in ROUTERS.
import { z } from "zod";
import { gatewayApiRouter, gatewayApiSchema } from "./gateway-api";
import { nginxRouter, nginxSchema } from "./nginx";
import { replicasRouter, replicasSchema } from "./replicas";
import type { Router } from "./router";

/** In the order the status command tries them: a router's own object first, pods last. */
export const ROUTERS = [gatewayApiRouter, nginxRouter, replicasRouter] as const;
export const ROUTER_TYPES = ROUTERS.map((r) => r.type);

/** `canary.router`: one of the routers' settings, told apart by `type`. */
export const routerSchema = z.discriminatedUnion("type", [gatewayApiSchema, nginxSchema, replicasSchema], {
    error: `expected one of ${ROUTER_TYPES.map((r) => `'${r}'`).join(", ")}`,
});
/** A router's settings with their defaults applied. */
export type RouterConfig = z.output<typeof routerSchema>;
/** A router's settings as a program or stack file writes them. */
export type RouterInput = z.input<typeof routerSchema>;

/** Without a router, the split is by replicas. */
export const DEFAULT_ROUTER: RouterConfig = { type: "replicas" };

/** The router of parsed settings. */
export function routerOf(config: { type: RouterConfig["type"] }): Router<RouterConfig> {
    const found = ROUTERS.find((r) => r.type === config.type);
    if (!found) throw new Error(`unknown canary router '${config.type}'`);
    return found as Router<any>;
}

export * from "./router";
