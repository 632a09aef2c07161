#!/usr/bin/env node
// A `solc` that answers like the native compiler, over solc-js (the npm package `solc`).
//
// py-solc-x (and so ape-solidity) runs `solc --version` and `solc --standard-json`;
// slither runs `solc --standard-json` when given `--solc-standard-json`. Those are the
// two modes served here. Sources given by `urls` (as crytic-compile does) and imports
// are read from disk: relative to --base-path, then each --include-path, then as given.
//
// Which solc-js build answers: SOLCJS_PACKAGE (a folder holding solc-js), else the
// `solc` package beside this file's project.
"use strict";

const fs = require("fs");
const path = require("path");

const USAGE = "usage: solc --version | solc --standard-json [--base-path DIR] " +
  "[--include-path DIR]... [--allow-paths DIRS] [FILE]";

function loadCompiler() {
  const where = process.env.SOLCJS_PACKAGE || path.join(__dirname, "..", "node_modules", "solc");
  try {
    return require(where);
  } catch (err) {
    fail(`solc-js not found at ${where}: run \`make setup\` (npm ci) first`);
  }
}

// Write all of `text` to a file descriptor synchronously: process.stdout.write followed
// by process.exit can cut piped output at 64 KiB.
function writeAll(fd, text) {
  const buffer = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (err) {
      if (err.code !== "EAGAIN") throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

function fail(message) {
  writeAll(2, `Error: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { mode: null, basePath: null, includePaths: [], file: null };
  const valued = new Set(["--base-path", "--include-path", "--allow-paths"]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith("--") && arg.includes("=")) {
      [arg, value] = [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)];
    }
    if (valued.has(arg) && value === null) {
      if (i + 1 >= argv.length) fail(`option ${arg} needs a value\n${USAGE}`);
      value = argv[++i];
    }
    if (arg === "--version" || arg === "--standard-json") options.mode = arg;
    else if (arg === "--base-path") options.basePath = value;
    else if (arg === "--include-path") options.includePaths.push(value);
    else if (arg === "--allow-paths") continue; // reads are not sandboxed here
    else if (arg.startsWith("-")) {
      fail(`option ${arg} is not supported by this solc-js launcher (only --version and ` +
        `--standard-json; for slither use --solc-standard-json)\n${USAGE}`);
    } else options.file = arg;
  }
  return options;
}

function importReader(options) {
  const roots = [options.basePath || process.cwd(), ...options.includePaths];
  return function findImports(importPath) {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((root) => path.resolve(root, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, "utf8") };
      }
    }
    return { error: `File not found. Searched ${candidates.join(", ")}` };
  };
}

// crytic-compile hands sources as {"urls": [path]}; solc-js only reads `content`.
function inlineUrls(input, findImports) {
  for (const [name, source] of Object.entries(input.sources || {})) {
    if (source.content !== undefined || !Array.isArray(source.urls)) continue;
    for (const url of source.urls) {
      const found = findImports(url);
      if (found.contents !== undefined) {
        source.content = found.contents;
        delete source.urls;
        break;
      }
    }
    if (source.content === undefined) fail(`source ${name} not found at ${source.urls.join(", ")}`);
  }
  return input;
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const solc = loadCompiler();
  if (options.mode === "--version") {
    writeAll(1, `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (options.mode !== "--standard-json") fail(`no mode given\n${USAGE}`);
  const raw = options.file ? fs.readFileSync(options.file, "utf8") : fs.readFileSync(0, "utf8");
  let input;
  try {
    input = JSON.parse(raw);
  } catch (err) {
    fail(`standard-json input is not JSON: ${err.message}`);
  }
  const findImports = importReader(options);
  const output = solc.compile(JSON.stringify(inlineUrls(input, findImports)), { import: findImports });
  writeAll(1, output + "\n");
}

main();
