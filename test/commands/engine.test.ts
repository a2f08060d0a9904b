// Which failed updates commands/engine.ts runs a second time: only the Node.js language
// host's known crash after the program finished, never a policy violation or a provider error.
import { isLanguageHostRace } from "../../commands/engine";

const hostPanic = [
    "code: 255",
    " stderr: panic: send on closed channel",
    "",
    "goroutine 52 [running]:",
    "main.(*nodeLanguageHost).execNodejs.func1()",
    "\t/build/pkg/mod/github.com/pulumi/pulumi/sdk/v3@v3.68.0/nodejs/cmd/pulumi-language-nodejs/main.go:535 +0x2f",
].join("\n");

describe("isLanguageHostRace", () => {
    test("the language host's send-on-closed-channel panic is retried", () => {
        expect(isLanguageHostRace(hostPanic)).toBe(true);
    });
    test.each([
        ["a policy violation", "error: update failed\nenforce-deploy-gate: production is frozen (Q4 freeze)"],
        [
            "a panic elsewhere in the CLI",
            "panic: send on closed channel\ngithub.com/pulumi/pulumi/pkg/v3/engine.diagEvent(...)\n\t/workspace/pkg/engine/events.go:578",
        ],
        [
            "another language-host panic",
            "panic: runtime error: invalid memory address\n\tpulumi-language-nodejs/main.go:600",
        ],
    ])("%s is not retried", (_what, message) => {
        expect(isLanguageHostRace(message)).toBe(false);
    });
});
