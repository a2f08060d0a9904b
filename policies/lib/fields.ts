// Config fields whose shape Kubernetes fixes, shared by the program's config schema and the
// routers' settings: one wording of each error.
import { z } from "zod";

/** A DNS label (RFC 1123): a namespace, a Service, a Gateway. */
export const dnsLabel = z
    .string({ error: "expected a DNS label (lower-case letters, digits, '-', at most 63)" })
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
        error: "expected a DNS label (lower-case letters, digits, '-', at most 63)",
    });

/** An HTTP path such as `/` or `/healthz`. */
export const httpPath = z
    .string({ error: "expected an HTTP path starting with '/'" })
    .regex(/^\/[^\s]*$/, { error: "expected an HTTP path starting with '/'" });
