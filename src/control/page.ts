// The status page of the control API: one static HTML page and a small script (no framework) that
// polls /v1/pools, /v1/leases?recent, /v1/history, /v1/failover and /v1/ddns and redraws. Served from
// memory. The Failover box shows only while /v1/failover answers 200 (server.pcy `failover NAME`), the
// Dynamic DNS box only while dynamic DNS is on.

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>joind status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .2em; }
  h2 { font-size: 1.05em; margin: 1.4em 0 .5em; }
  #meta { color: #666; }
  .net { margin: .6em 0; }
  .bar { display: flex; height: 22px; width: 100%; max-width: 760px; border: 1px solid #999; background: #fff; }
  .bar span { height: 100%; }
  .used { background: #2b6cb0; } .offered { background: #ecc94b; } .abandoned { background: #c53030; } .free { background: #e2e8f0; }
  .legend span { display: inline-block; width: .9em; height: .9em; vertical-align: middle; margin: 0 .3em 0 .8em; }
  table { border-collapse: collapse; } td, th { padding: 2px 10px 2px 0; text-align: left; font-variant-numeric: tabular-nums; }
  th { border-bottom: 1px solid #999; }
  svg { border: 1px solid #ccc; background: #fafafa; }
  #failover th, #ddns th { border: 0; font-weight: normal; color: #666; }
  .ok { color: #276749; } .warn { color: #b7791f; } .bad { color: #c53030; font-weight: bold; }
</style>
</head>
<body>
<h1>joind</h1>
<div id="meta">loading…</div>
<div id="failover-box" hidden>
<h2>Failover</h2>
<table id="failover"><tbody></tbody></table>
</div>
<div id="ddns-box" hidden>
<h2>Dynamic DNS</h2>
<table id="ddns"><tbody></tbody></table>
</div>
<h2>Pools</h2>
<div class="legend"><span class="used"></span>used<span class="offered"></span>offered<span class="abandoned"></span>abandoned<span class="free"></span>free</div>
<div id="pools"></div>
<h2>Latest leases</h2>
<table id="leases"><thead><tr><th>address</th><th>hardware address</th><th>state</th><th>ends (UTC)</th><th>name</th></tr></thead><tbody></tbody></table>
<h2>Packets over time (counts since start)</h2>
<div><svg id="chart" width="760" height="140" role="img" aria-label="packets received, sent and dropped since start"></svg></div>
<div id="chart-legend" class="legend"><span style="background:#2b6cb0"></span>received<span style="background:#38a169"></span>sent<span style="background:#c53030"></span>dropped</div>
<script src="status.js"></script>
</body>
</html>
`;

export const STATUS_SCRIPT = `'use strict';
const $ = (id) => document.getElementById(id);
const text = (tag, value, attrs) => { const e = document.createElement(tag); e.textContent = value; for (const k in attrs || {}) e.setAttribute(k, attrs[k]); return e; };
async function get(path) { const r = await fetch(path, { cache: 'no-store' }); if (!r.ok) throw new Error(path + ': ' + r.status); return r.json(); }
// A route that may have nothing to show: null on 404 (GET v1/failover without a relationship).
async function getIfAny(path) { const r = await fetch(path, { cache: 'no-store' }); if (r.status === 404) return null; if (!r.ok) throw new Error(path + ': ' + r.status); return r.json(); }
function when(s) { return s === null ? 'never' : new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 19); }
function ago(s, now) {
  const d = Math.max(0, Math.round(now - s));
  return d < 120 ? d + ' s' : d < 7200 ? Math.floor(d / 60) + ' min' : d < 172800 ? Math.floor(d / 3600) + ' h' : Math.floor(d / 86400) + ' d';
}

// The relationship as GET v1/failover gives it (joind ctl failover): [key, label, value, class] per row.
function failoverRows(f, now) {
  const s = f.stats || {};
  const mark = (good, bad) => (good ? 'ok' : bad ? 'bad' : 'warn');
  return [
    ['relationship', 'relationship', f.relationship, ''],
    ['role', 'role', f.role, ''],
    ['state', 'our state', f.state + ' since ' + when(f.stos) + ' UTC (' + ago(f.stos, now) + ')', mark(f.state === 'normal', false)],
    ['partnerState', 'partner state', f.partnerState === null ? 'unknown' : f.partnerState, mark(f.partnerState === 'normal', false)],
    ['link', 'link', f.link, mark(f.link === 'up', f.link !== 'up')],
    ['service', 'service', f.service, mark(f.service === 'cooperating', f.service === 'none')],
    ['note', 'why', f.note || '-', ''],
    ['mclt', 'MCLT', f.mclt + ' s', ''],
    ['updates', 'updates', f.unackedUpdates + ' unacknowledged, ' + f.queuedUpdates + ' queued', ''],
    ['addresses', 'free addresses', f.free + ' free (primary), ' + f.backup + ' backup (secondary)', ''],
    ['latency', 'mean BNDACK latency', s.ackLatencyCount > 0 ? (s.ackLatencyMsSum / s.ackLatencyCount).toFixed(1) + ' ms over ' + s.ackLatencyCount + ' BNDACKs' : '-', ''],
    ['sent', 'updates sent', s.updatesSent + ' sent, ' + s.updatesAcked + ' acknowledged, ' + s.updatesRejectedByPeer + ' rejected by the partner', ''],
    ['received', 'updates received', s.updatesReceived + ' received, ' + s.updatesRefused + ' refused, ' + s.badMessages + ' bad messages', ''],
  ];
}

function drawFailover(f) {
  const box = $('failover-box');
  box.hidden = f === null;
  const body = $('failover').tBodies[0];
  body.replaceChildren();
  if (f === null) return;
  box.dataset.state = f.state;
  for (const [key, label, value, cls] of failoverRows(f, Date.now() / 1000)) {
    const tr = document.createElement('tr');
    tr.dataset.key = key;
    tr.append(text('th', label), text('td', value, cls ? { class: cls } : {}));
    body.append(tr);
  }
}

// Dynamic DNS as GET v1/ddns gives it (joind ctl ddns); the box only while it is on.
function drawDdns(d) {
  const box = $('ddns-box');
  box.hidden = !(d && d.enabled);
  const body = $('ddns').tBodies[0];
  body.replaceChildren();
  if (box.hidden) return;
  const failing = d.jobs.find((j) => j.lastError);
  const rows = [
    ['server', 'updates to', d.server + (d.key ? ', signed with ' + d.key : ', unsigned'), ''],
    ['queued', 'queued', d.queued + ' (sending ' + d.inFlight + (d.pacedPerSecond === null ? '' : ', held to ' + d.pacedPerSecond + '/s by the DHCP load') + ')', d.queued > 0 && failing ? 'warn' : 'ok'],
    ['done', 'since start', d.updated + ' updated, ' + d.removed + ' removed, ' + d.conflicts + ' conflicts, ' + d.failures + ' failed tries', d.conflicts > 0 ? 'warn' : ''],
    ['error', 'last error', failing ? failing.fqdn + ': ' + failing.lastError + ' (' + failing.attempts + ' tries)' : '-', failing ? 'bad' : ''],
  ];
  for (const [key, label, value, cls] of rows) {
    const tr = document.createElement('tr');
    tr.dataset.key = key;
    tr.append(text('th', label), text('td', value, cls ? { class: cls } : {}));
    body.append(tr);
  }
}

function drawPools(networks) {
  const box = $('pools');
  box.replaceChildren();
  for (const n of networks) {
    const div = document.createElement('div');
    div.className = 'net';
    for (const k of ['total', 'assigned', 'offered', 'abandoned', 'free']) div.dataset[k] = String(n[k]);
    div.dataset.network = n.network;
    div.append(text('div', n.network + '/' + n.prefixLength + ' (' + n.ranges.join(', ') + '): ' +
      n.assigned + ' used, ' + n.offered + ' offered, ' + n.abandoned + ' abandoned, ' + n.free + ' free of ' + n.total, { class: 'label' }));
    const bar = document.createElement('div');
    bar.className = 'bar';
    for (const [cls, v] of [['used', n.assigned], ['offered', n.offered], ['abandoned', n.abandoned], ['free', n.free]]) {
      const s = document.createElement('span');
      s.className = cls;
      s.style.width = (n.total > 0 ? (100 * v / n.total) : 0) + '%';
      s.title = cls + ': ' + v;
      bar.append(s);
    }
    div.append(bar);
    box.append(div);
  }
}

function drawLeases(leases) {
  const body = $('leases').tBodies[0];
  body.replaceChildren();
  for (const l of leases) {
    const tr = document.createElement('tr');
    tr.dataset.address = l.address;
    for (const v of [l.address, l.hwaddr || '-', l.state, when(l.ends), l.hostname || l.clientHostname || '-']) tr.append(text('td', v));
    body.append(tr);
  }
}

// The counters as they grew: one point per sample of /v1/history (every 5 s), and the present.
function drawChart(samples) {
  const svg = $('chart');
  const W = 760, H = 140;
  const series = [['received', '#2b6cb0'], ['sent', '#38a169'], ['dropped', '#c53030']];
  const t0 = samples[0].t, t1 = Math.max(samples[samples.length - 1].t, t0 + 1);
  const max = Math.max(1, ...samples.map((s) => Math.max(s.received, s.sent, s.dropped)));
  svg.replaceChildren();
  svg.dataset.samples = String(samples.length);
  for (const [key, colour] of series) {
    const pts = samples.map((s) => (((s.t - t0) * (W - 8)) / (t1 - t0) + 4).toFixed(1) + ',' + (H - 4 - (s[key] * (H - 8)) / max).toFixed(1));
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', pts.join(' '));
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', colour);
    line.setAttribute('stroke-width', '2');
    line.dataset.series = key;
    line.dataset.last = String(samples[samples.length - 1][key]);
    svg.append(line);
  }
}

async function refresh() {
  try {
    const [status, pools, leases, history, failover, ddns] = await Promise.all([
      get('v1/status'), get('v1/pools'), get('v1/leases?recent=1&limit=15'), get('v1/history'), getIfAny('v1/failover'),
      getIfAny('v1/ddns?limit=20'),
    ]);
    const c = status.counters || {};
    $('meta').textContent = 'joind ' + status.version + ' · pid ' + status.pid + ' · up ' + status.uptimeSeconds + ' s · ' +
      (c.received || 0) + ' packets received · updated ' + new Date().toISOString().slice(11, 19) + ' UTC';
    $('meta').dataset.received = String(c.received || 0);
    drawFailover(failover);
    drawDdns(ddns);
    drawPools(pools.networks);
    drawLeases(leases.leases);
    const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
    const present = { t: Math.floor(Date.now() / 1000), received: c.received || 0, sent: sum(c.sent), dropped: sum(c.dropped) + sum(c.parseFailed) };
    drawChart(history.samples.concat([present]));
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  } catch (err) {
    $('meta').textContent = 'cannot reach joind: ' + err.message;
  }
}
refresh();
setInterval(refresh, 2000);
`;
