// The pack's entry point. Where its TypeScript sources are (this repository), the engine's
// policy runner compiles them with ts-node, so what runs is always what is checked in.
// A published package carries no sources, only the JavaScript `npm pack` built into dist/
// (ts-node does not compile files under node_modules, where a platform team installs it).
const fs = require("node:fs");
const path = require("node:path");

require(fs.existsSync(path.join(__dirname, "index.ts")) ? "./index.ts" : "./dist/index.js");
