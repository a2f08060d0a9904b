import { DateTime } from "luxon";
import { decideRollout, selfStackName } from "../../lib/deployment-record";
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

    describe("a rollback stays rolled back", () => {
        const t1 = t0.plus({ minutes: 5 });
        /** green live, then rolled back to blue: the record the next update reads. */
        const rolledBack = () => {
            const green = decideRollout(flip(base()), undefined, t0).record;
            return decideRollout(withRollback(base()), green, t1);
        };

        test("the rollback is recorded with who, when, why and what it took out of service", () => {
            expect(rolledBack().record.services.api.rolledBack).toEqual({
                from: "green",
                image: base().services.find((s) => s.name === "api")!.blueGreen!.images.green,
                switched: "green → blue",
                by: "kim",
                at: "2026-11-23T10:05:00Z",
                reason: "errors",
            });
        });

        test("the stack file without the rollback (green live again) is refused, naming it and the ways forward", () => {
            const again = decideRollout(flip(base()), rolledBack().record, t1.plus({ minutes: 10 }));
            expect(again.undoes).toEqual([
                expect.stringMatching(
                    /^services\.api: this would give traffic back to green \(\S+\), which kim rolled back at 2026-11-23T10:05:00Z \(green → blue: errors\)\. Commit the rollback to the stack file .*, or release a fixed image as a new release\.$/,
                ),
            ]);
        });

        test("the committed rollback deploys, and keeps the record for the next run", () => {
            const committed = decideRollout(withRollback(base()), rolledBack().record, t1.plus({ minutes: 10 }));
            expect(committed.undoes).toEqual([]);
            expect(committed.record.services.api.rolledBack?.from).toBe("green");
            const plain = decideRollout(base(), committed.record, t1.plus({ minutes: 20 }));
            expect(plain.undoes).toEqual([]);
            // Still refused later: the record outlives the runs that leave green idle.
            expect(decideRollout(flip(base()), plain.record, t1.plus({ hours: 1 })).undoes).toHaveLength(1);
        });

        test("a fixed image on that colour is a new release: allowed, and the record is gone", () => {
            const fixed = flip(base());
            fixed.services.find((s) => s.name === "api")!.blueGreen!.images.green = "ghcr.io/acme/shop-api:1.42.1";
            const next = decideRollout(fixed, rolledBack().record, t1.plus({ minutes: 10 }));
            expect(next.undoes).toEqual([]);
            expect(next.record.services.api.rolledBack).toBeUndefined();
        });

        test("an aborted canary is not given traffic again with the same image", () => {
            const canary = (weight: number, image?: string) => {
                const c = base();
                const web = c.services.find((s) => s.canary)!;
                web.canary = { ...web.canary!, weight, ...(image ? { image } : {}) };
                return c;
            };
            const at25 = decideRollout(canary(25), undefined, t0).record;
            const aborted = decideRollout(withRollback(canary(0)), at25, t1).record;
            expect(aborted.services.web.rolledBack).toMatchObject({ from: "canary", switched: "canary 25 % → 0 %" });
            expect(decideRollout(canary(5), aborted, t1.plus({ minutes: 5 })).undoes).toEqual([
                expect.stringMatching(
                    /^services\.web: this would give the canary \S+ traffic again, which kim rolled back/,
                ),
            ]);
            expect(decideRollout(canary(5, "ghcr.io/acme/shop-web:9.9.9"), aborted, t1).undoes).toEqual([]);
        });
    });
});

describe("selfStackName", () => {
    test("a Pulumi Cloud stack reads its own record in its organization; a DIY backend's is `organization`", () => {
        expect(selfStackName("acme", "runbook", "production")).toBe("acme/runbook/production");
        expect(selfStackName("organization", "runbook", "local")).toBe("organization/runbook/local");
        expect(selfStackName(undefined, "runbook", "local")).toBe("organization/runbook/local");
        expect(selfStackName("", "runbook", "local")).toBe("organization/runbook/local");
    });
});
