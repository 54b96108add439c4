// Live-counter benchmark: N server-sent-event subscribers on one call page, one
// submission through the API, and how long each subscriber waits to see it.
// Usage: node e2e/bench-live.mjs BASE_URL CALL_CODE TOKEN [N=5000]
// Prints connection time and the delay percentiles; exits non-zero if any subscriber
// missed the update or waited more than one second.
import http from 'node:http';

const [base, code, token, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 5000);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const initial = new Array(n).fill(null);
const delay = new Array(n).fill(null);
let connected = 0;
let t0 = null;
const started = performance.now();

for (let i = 0; i < n; i++) {
  const req = http.get(`${base}/bandi/${code}/eventi`, { agent }, (res) => {
    if (res.statusCode !== 200) {
      console.error(`subscriber ${i}: HTTP ${res.statusCode}`);
      process.exit(2);
    }
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (chunk) => {
      buf += chunk;
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data:'));
        if (!data) continue;
        const c = JSON.parse(data.slice(5));
        if (initial[i] === null) {
          initial[i] = c.applications;
          connected++;
        } else if (t0 !== null && delay[i] === null && c.applications > initial[i]) {
          delay[i] = performance.now() - t0;
        }
      }
    });
  });
  req.on('error', (e) => {
    console.error(`subscriber ${i}: ${e.message}`);
    process.exit(2);
  });
}

const deadline = Date.now() + 120_000;
while (connected < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const connectSeconds = (performance.now() - started) / 1000;
if (connected < n) {
  console.error(`only ${connected} of ${n} subscribers received the first event`);
  process.exit(1);
}

const body = JSON.stringify({
  title: 'Smart working: prova del contatore',
  summary: 'Benchmark',
  lines: [{ category: 'training', description: 'Formazione', amount_cents: 7_500_000 }],
  indicators: { staff_total: 10, agile_workers_before: 1, agile_workers_target: 5 },
});
t0 = performance.now();
const res = await fetch(`${base}/api/v1/calls/${code}/applications`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body,
});
const ackMs = performance.now() - t0;
if (res.status !== 201) {
  console.error(`submission: HTTP ${res.status} ${await res.text()}`);
  process.exit(2);
}
const waitUntil = Date.now() + 5_000;
while (delay.some((d) => d === null) && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 20));

const got = delay.filter((d) => d !== null).sort((a, b) => a - b);
const pct = (p) => got[Math.min(got.length - 1, Math.floor((p / 100) * got.length))].toFixed(0);
const withinOne = got.filter((d) => d <= 1000).length;
console.log(`subscribers: ${n} connected in ${connectSeconds.toFixed(1)} s; submission acknowledged in ${ackMs.toFixed(0)} ms`);
console.log(`update seen by ${got.length} of ${n}; within 1 s: ${withinOne}`);
console.log(`delay after the submission was sent, ms: p50 ${pct(50)} · p99 ${pct(99)} · max ${got[got.length - 1].toFixed(0)}`);
process.exit(got.length === n && withinOne === n ? 0 : 1);
