/**
 * Times autoslim's profile(): MACs and params of a channel list, graph building included, for
 * every architecture at its default input size. Prints a table and a JSON line.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/profile.js
 */
import { ARCHITECTURE_NAMES, architectureInfo, defaultChannels, profile } from '../autoslim';

const WARMUP = 200;
const RUNS = 2000;

const rows = ARCHITECTURE_NAMES.map((arch) => {
  const info = architectureInfo(arch);
  const opts = { inputSize: info.defaultInputSize, numClasses: info.defaultNumClasses };
  const channels = defaultChannels(arch, info.defaultStartWidth, opts);
  for (let i = 0; i < WARMUP; i++) profile(arch, channels, opts);
  const times: number[] = [];
  let macs = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    macs = profile(arch, channels, opts).macs;
    times.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  const sorted = times.sort((a, b) => a - b);
  return {
    architecture: arch,
    width: info.defaultStartWidth,
    macs,
    medianMicros: sorted[Math.floor(RUNS / 2)],
    p99Micros: sorted[Math.floor(RUNS * 0.99)],
  };
});

console.log('architecture   width        MACs   median µs   p99 µs');
for (const r of rows) {
  console.log(
    [
      r.architecture.padEnd(14),
      r.width.toFixed(2).padStart(5),
      String(r.macs).padStart(12),
      r.medianMicros.toFixed(1).padStart(10),
      r.p99Micros.toFixed(1).padStart(8),
    ].join(' '),
  );
}
console.log(JSON.stringify({ bench: 'autoslim.profile', runs: RUNS, node: process.version, rows }));
