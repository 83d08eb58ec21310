// Prints the licence of every npm package that esbuild put into the bundle (from its metafile).
const fs = require("fs");
const path = require("path");
const meta = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const packages = new Set();
for (const input of Object.keys(meta.inputs)) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packages.add(match[1]);
}
const out = ["Third-party code in codemirror.js, built by tools/codemirror/build.sh.\n"];
for (const name of [...packages].sort()) {
  const dir = path.join("node_modules", name);
  const info = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  out.push("=".repeat(78));
  out.push(`${name} ${info.version} (${info.license})`);
  out.push("=".repeat(78));
  out.push(file ? fs.readFileSync(path.join(dir, file), "utf8").trim() : `License: ${info.license}`);
  out.push("");
}
process.stdout.write(out.join("\n") + "\n");
