#!/usr/bin/env node
// Compile contracts/src/*.sol with the npm `solc` package at the version pinned in
// package-lock.json, and write ABI + bytecode to contracts/build/<Name>.json.
// `--check` compiles and fails if a committed artifact differs (CI runs it).
// `--standard-input FILE` writes the compiler's standard-JSON input instead (for Slither).
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const root = path.resolve(__dirname, "..");
const srcDir = path.join(__dirname, "src");
const buildDir = path.join(__dirname, "build");
const check = process.argv.includes("--check");

const sources = {};
function collect(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) collect(full);
    else if (entry.name.endsWith(".sol")) {
      sources[path.relative(root, full).split(path.sep).join("/")] = { content: fs.readFileSync(full, "utf8") };
    }
  }
}
collect(srcDir);

const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 10000 },
    evmVersion: "cancun",
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};

// `--standard-input FILE`: write the compiler's standard-JSON input and stop (Slither reads it:
// `slither FILE --compile-force-framework solc-json --solc contracts/bin/solc`).
const inputAt = process.argv.indexOf("--standard-input");
if (inputAt !== -1) {
  const forAnalysis = { ...input, settings: { ...input.settings } };
  forAnalysis.settings.outputSelection = {
    "*": { "*": ["abi", "metadata", "devdoc", "userdoc", "evm.bytecode", "evm.deployedBytecode"], "": ["ast"] },
  };
  fs.writeFileSync(process.argv[inputAt + 1], JSON.stringify(forAnalysis, null, 2) + "\n");
  process.exit(0);
}

function findImports(importPath) {
  const candidates = [path.join(root, "node_modules", importPath), path.join(root, importPath)];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `File not found: ${importPath}` };
}

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

fs.mkdirSync(buildDir, { recursive: true });
let stale = 0;
for (const [source, contracts] of Object.entries(output.contracts)) {
  if (!source.startsWith("contracts/src/")) continue;
  for (const [name, c] of Object.entries(contracts)) {
    const artifact = {
      contractName: name,
      sourceName: source,
      compiler: `solc-js ${solc.version()}`,
      settings: input.settings,
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
    };
    const text = JSON.stringify(artifact, null, 2) + "\n";
    const target = path.join(buildDir, `${name}.json`);
    if (check) {
      const committed = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
      if (committed !== text) {
        console.error(`${path.relative(root, target)} differs from a fresh compile of ${source}`);
        stale += 1;
      }
    } else {
      fs.writeFileSync(target, text);
      console.log(`wrote ${path.relative(root, target)}`);
    }
  }
}
if (stale) process.exit(1);
if (check) console.log("contract artifacts match their sources");
