#!/usr/bin/env node
// profile-top.js — the functions with the most self time in a .cpuprofile (node --cpu-prof), and the
// share of each source file. Usage: node bench/profile-top.js FILE.cpuprofile [N]
'use strict';
const fs = require('node:fs');

const profile = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const top = Number(process.argv[3] ?? 30);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
}
const byFunction = new Map();
const byFile = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const frame = byId.get(id).callFrame;
  const file = frame.url.replace(/^file:\/\//, '').replace(/.*\/(dist|node_modules)\//, '$1/') || '(native)';
  const key = `${frame.functionName || '(anonymous)'}  ${file}:${frame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  if (frame.functionName !== '(idle)') byFile.set(file, (byFile.get(file) ?? 0) + us);
  total += us;
}
const idle = [...byFunction].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
const busy = total - idle;
const show = (map, n) => [...map].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, n)
  .forEach(([k, us]) => console.log(`${(100 * us / busy).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`));
console.log(`busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled\n-- by function (self)`);
show(byFunction, top);
console.log('-- by file (self)');
show(byFile, 15);

// Inclusive time of joind's own functions (each counted once per sample, however deep the recursion).
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const inclusive = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const seen = new Set();
  for (let id = profile.samples[i]; id !== undefined; id = parentOf.get(id)) {
    const f = byId.get(id).callFrame;
    if (!/\/dist\/src\//.test(f.url)) continue;
    const key = `${f.functionName || '(anonymous)'}  ${f.url.replace(/.*\/dist\//, 'dist/')}:${f.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
}
console.log('-- joind functions (inclusive)');
show(inclusive, 25);
