// Page latency: for each URL, sequential requests from one client on a keep-alive
// connection (a quiet server, as the issue asks), with the latency percentiles.
// Usage: node e2e/bench-pages.mjs BASE_URL COOKIE REQUESTS PATH...
import http from 'node:http';

const [base, cookie, requestsArg, ...paths] = process.argv.slice(2);
const requests = Number(requestsArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(path) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = http.get(`${base}${path}`, { agent, headers: cookie ? { cookie } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve([res.statusCode, performance.now() - t]));
    });
    req.on('error', reject);
  });
}

let worst = 0;
console.log('| page | status | p50 ms | p99 ms | max ms |');
console.log('|---|---:|---:|---:|---:|');
for (const path of paths) {
  for (let i = 0; i < 50; i++) await get(path);
  const times = [];
  let status = 0;
  for (let i = 0; i < requests; i++) {
    const [s, ms] = await get(path);
    status = s;
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  const p = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  worst = Math.max(worst, p(0.99));
  console.log(`| \`${path}\` | ${status} | ${p(0.5).toFixed(2)} | ${p(0.99).toFixed(2)} | ${times[times.length - 1].toFixed(2)} |`);
}
console.log(`worst p99: ${worst.toFixed(2)} ms`);
