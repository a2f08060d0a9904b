import { DateTime } from "luxon";
import { decideRollout } from "../../lib/deployment-record";
import { stackConfig } from "../util/stack";

const t0 = DateTime.fromISO("2026-11-23T10:00:00Z");

describe("decideRollout", () => {
    const base = () => stackConfig("local");
    const withRollback = (c: ReturnType<typeof base>) => ({
        ...c,
        release: { ...c.release, rollback: { reason: "errors", by: "kim", at: "2026-11-23T10:05:00Z" } },
    });
    const flip = (c: ReturnType<typeof base>) => ({
        ...c,
        services: c.services.map((s) =>
            s.blueGreen
                ? {
                      ...s,
                      image: s.blueGreen.images.green,
                      blueGreen: { ...s.blueGreen, activeColor: "green" as const },
                  }
                : s,
        ),
    });

    test("switching back to the colour that was live is a rollback; anything more is not", () => {
        const before = decideRollout(flip(base()), undefined, t0).record;
        const back = decideRollout(withRollback(base()), before, t0.plus({ minutes: 5 }));
        expect(back.problems).toEqual([]);
        expect(back.switches).toEqual(["api: green → blue"]);
        expect(back.rollback).toEqual({ reason: "errors", by: "kim", at: "2026-11-23T10:05:00Z" });

        const c = withRollback(base());
        const api = c.services.find((s) => s.name === "api")!;
        api.blueGreen!.images.blue = "ghcr.io/acme/shop-api:9.9.9";
        const more = decideRollout(c, before, t0);
        expect(more.rollback).toBeUndefined();
        expect(more.problems).toEqual([
            "services.api changed since the last deployment (image, sizing or other settings), not only which colour or weight is live",
        ]);
    });

    test("no rollback to a colour scaled down, and none with nothing deployed", () => {
        const c = flip(base());
        const api = c.services.find((s) => s.name === "api")!;
        api.blueGreen!.scaleDownAfterSeconds = 60;
        const deployed = decideRollout(c, undefined, t0).record;
        const later = decideRollout(c, deployed, t0.plus({ minutes: 2 }));
        expect(later.idleReplicas.api).toBe(0);
        expect(later.record.services.api.switchedAt).toBe(deployed.services.api.switchedAt);
        const back = withRollback(base());
        back.services.find((s) => s.name === "api")!.blueGreen!.scaleDownAfterSeconds = 60;
        expect(decideRollout(back, later.record, t0.plus({ minutes: 3 })).problems).toEqual([
            "services.api: blue has run no pods since it was scaled down, so it cannot take traffic back",
        ]);
        expect(decideRollout(withRollback(base()), undefined, t0).problems).toEqual([
            "nothing was deployed before, so there is nothing to go back to",
        ]);
    });
});
