#!/usr/bin/env node
// A `solc` executable for tools that expect one (Slither through crytic-compile), backed by the
// npm `solc` package pinned in package-lock.json, so nothing is downloaded. Understands what
// crytic-compile asks: `--version`, and `--standard-json` (input on stdin, output on stdout);
// imports resolve against the working directory and node_modules (@openzeppelin/...).
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const root = path.resolve(__dirname, "..");
const args = process.argv.slice(2);

if (args.includes("--version")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("this solc wrapper only understands --version and --standard-json\n");
  process.exit(2);
}

function findImports(importPath) {
  const candidates = [
    path.resolve(process.cwd(), importPath),
    path.join(root, "node_modules", importPath),
    path.join(root, importPath),
  ];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `File not found: ${importPath}` };
}

const input = JSON.parse(fs.readFileSync(0, "utf8"));
for (const [name, source] of Object.entries(input.sources || {})) {
  if (source.content === undefined && source.urls) {  // crytic-compile lists files by path
    const found = findImports(source.urls[0] || name);
    if (found.contents !== undefined) input.sources[name] = { content: found.contents };
  }
}
process.stdout.write(solc.compile(JSON.stringify(input), { import: findImports }));
