// Latency of the application form's live preview: sequential POSTs of a form's budget
// lines (what the form's script sends as the person types) from one client on a
// keep-alive connection, with the latency percentiles.
// Usage: node e2e/bench-preview.mjs BASE_URL COOKIE CSRF REQUESTS PATH
import http from 'node:http';

const [base, cookie, csrf, requestsArg, path] = process.argv.slice(2);
const requests = Number(requestsArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const body = new URLSearchParams({
  csrf,
  'line-0-category': 'technology', 'line-0-description': 'Cloud', 'line-0-amount': '80.000,00',
  'line-1-category': 'training', 'line-1-description': 'Formazione', 'line-1-amount': '25.000',
  'line-2-category': 'devices', 'line-2-description': 'Portatili', 'line-2-amount': '30.000,00',
}).toString();

function post() {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = http.request(`${base}${path}`, {
      method: 'POST', agent,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve([res.statusCode, performance.now() - t]));
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (let i = 0; i < 50; i++) await post();
const times = [];
let status = 0;
for (let i = 0; i < requests; i++) {
  const [s, ms] = await post();
  status = s;
  times.push(ms);
}
times.sort((a, b) => a - b);
const p = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
console.log('| request | status | p50 ms | p99 ms | max ms |');
console.log('|---|---:|---:|---:|---:|');
console.log(`| \`POST ${path}\` | ${status} | ${p(0.5).toFixed(2)} | ${p(0.99).toFixed(2)} | ${times[times.length - 1].toFixed(2)} |`);
