// The live dashboard. Plain JS, no build step. Messages arrive over the /v1/dashboard WebSocket
// (DashboardMessage in packages/protocol/src/wire.ts); they are folded into state at once and the page is
// drawn at most once per animation frame, so a busy market cannot make the page fall behind.
(function () {
  'use strict';

  var PALETTE = ['#3558d6', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0b7285', '#a61e4d', '#5c940d', '#d9480f', '#1864ab', '#862e9c', '#495057'];
  var HISTORY_POINTS = 1200; // 10 minutes at two snapshots a second
  var FEED_CAP = 400;
  var FEED_RENDER_MS = 250;

  var latest = null;
  var snapshots = 0;
  var feed = []; // routine events, newest last
  var slashFeed = []; // slashes, newest last
  var SLASH_CAP = 200;
  var seen = new Set();
  var hist = { t: [], thr: [], p50: [], p95: [], ttft: [] };
  var stakeHist = { t: [], by: {} };
  var lastSlashes = -1;
  var frameQueued = false;
  var snapshotDirty = false;
  var feedDirty = false;
  var lastFeedRender = -Infinity;
  var feedTimer = null;
  var charts = { throughput: null, stakes: null, stakesKey: '' };
  var colorOf = {};
  var cache = {};
  // Where the page spends its time (read by benchmarks and curious people: window.infermarketDashboardPerf).
  var perf = window.infermarketDashboardPerf = { messages: 0, bytes: 0, handleMs: 0, frames: 0, renderMs: 0, snapshotRenderMs: 0, feedRenderMs: 0, chartMs: 0 };

  // ---------- formatting ----------

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; });
  }
  function short(a) { return a && a.length > 14 ? a.slice(0, 7) + '…' + a.slice(-4) : (a || '–'); }
  // Instance names and strategies the operator gave the market (`--node-labels`; the testnet passes them).
  var labels = {};
  function who(a) {
    var l = labels[a];
    return l ? '<b class="node-name" data-testid="node-name">' + esc(l.name || '') + '</b>' + (l.strategy ? ' <span class="muted" data-testid="node-strategy">' + esc(l.strategy) + '</span>' : '') + ' ' : '';
  }
  function whoText(a) { var l = labels[a]; return l && l.name ? l.name + (l.strategy ? ' (' + l.strategy + ')' : '') : short(a); }
  function byTime(a, b) { return a.tMs - b.tMs; }
  /** Exact micro-mUSD string → mUSD text; `dp` rounds to that many decimals (omit for exact). */
  function musd(micro, dp) {
    var v;
    try { v = BigInt(micro); } catch (e) { return esc(micro); }
    var neg = v < 0n; if (neg) v = -v;
    if (dp !== undefined) {
      var unit = 10n ** BigInt(6 - dp);
      v = (v + unit / 2n) / unit * unit;
    }
    var whole = (v / 1000000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    var frac = (v % 1000000n).toString().padStart(6, '0');
    frac = dp !== undefined ? frac.slice(0, dp) : frac.replace(/0+$/, '');
    if (dp !== undefined && /^0*$/.test(frac)) frac = '';
    return (neg ? '−' : '') + whole + (frac ? '.' + frac : '');
  }
  function toMusd(micro) { try { return Number(BigInt(micro)) / 1e6; } catch (e) { return 0; } }
  function ms(x) { return !isFinite(x) ? '–' : x >= 1000 ? (x / 1000).toFixed(2) + ' s' : Math.round(x) + ' ms'; }
  function pair(a, b) { return a < 1000 && b < 1000 ? Math.round(a) + ' / ' + Math.round(b) + ' ms' : ms(a) + ' / ' + ms(b); }
  function clock(msSinceStart) {
    var s = Math.max(0, Math.floor(msSinceStart / 1000));
    var m = Math.floor(s / 60), h = Math.floor(m / 60);
    var ss = String(s % 60).padStart(2, '0');
    return h ? h + ':' + String(m % 60).padStart(2, '0') + ':' + ss : m + ':' + ss;
  }
  /** Feed times may be absolute (wall ms) or relative to the market's start. */
  function rel(tMs) { return latest && tMs > 1e11 ? tMs - latest.startedAtMs : tMs; }
  function color(addr) {
    if (!colorOf[addr]) colorOf[addr] = PALETTE[Object.keys(colorOf).length % PALETTE.length];
    return colorOf[addr];
  }
  function setHtml(el, key, html) {
    if (cache[key] === html) return;
    cache[key] = html;
    el.innerHTML = html;
  }
  function $(id) { return document.querySelector('[data-testid="' + id + '"]'); }
  function kpi(id, value, sub, tone) {
    var el = $(id);
    setHtml(el.querySelector('.value'), id + ':v', value);
    if (sub !== undefined) setHtml(el.querySelector('.sub'), id + ':s', sub);
    el.classList.remove('good', 'bad', 'warn');
    if (tone) el.classList.add(tone);
  }

  // ---------- incoming messages ----------

  function feedKey(e) { return e.tMs + '|' + e.kind + '|' + (e.jobId || '') + '|' + (e.node || '') + '|' + (e.amountMicro || ''); }
  var seenOrder = [];
  function mergeFeed(events) {
    for (var i = 0; i < events.length; i++) {
      var e = events[i];
      var k = feedKey(e);
      if (seen.has(k)) continue; // snapshots repeat recent events that also came as feed messages
      seen.add(k); seenOrder.push(k);
      var into = e.kind === 'slashed' ? slashFeed : feed;
      // events can arrive out of time order (a late browser gets the recent snapshot feed, then the
      // older slash history): keep each list sorted by time so "newest first" is true
      if (into.length && into[into.length - 1].tMs > e.tMs) { into.push(e); into.sort(byTime); } else into.push(e);
      feedDirty = true;
    }
    // Keep slashes far longer than routine events: they are what people come to see.
    if (feed.length > FEED_CAP) feed.splice(0, feed.length - FEED_CAP);
    if (slashFeed.length > SLASH_CAP) slashFeed.splice(0, slashFeed.length - SLASH_CAP);
    if (seenOrder.length > 4 * FEED_CAP) {
      var drop = seenOrder.splice(0, seenOrder.length - 2 * FEED_CAP);
      for (var j = 0; j < drop.length; j++) seen.delete(drop[j]);
    }
  }
  function push(arr, v) { arr.push(v); if (arr.length > HISTORY_POINTS) arr.shift(); }
  function onSnapshot(s) {
    var t = (s.nowMs - s.startedAtMs) / 1000;
    // A different market (restarted with a new start time) or a clock that went back: start the
    // page's own history over rather than draw a line back in time.
    if (latest && (s.startedAtMs !== latest.startedAtMs || t + 2 < hist.t[hist.t.length - 1])) {
      hist = { t: [], thr: [], p50: [], p95: [], ttft: [] };
      stakeHist = { t: [], by: {} };
    }
    latest = s;
    snapshots++;
    if (!hist.t.length || t > hist.t[hist.t.length - 1]) {
      push(hist.t, t); push(hist.thr, s.throughputPerSec); push(hist.p50, s.latencyMs.p50); push(hist.p95, s.latencyMs.p95); push(hist.ttft, s.ttftMs.p50);
      push(stakeHist.t, t);
      var miners = s.nodes.filter(function (n) { return n.role === 'miner'; });
      var n0 = stakeHist.t.length;
      miners.forEach(function (n) {
        var arr = stakeHist.by[n.address];
        if (!arr) { arr = stakeHist.by[n.address] = []; while (arr.length < n0 - 1) arr.push(null); }
        arr.push(toMusd(n.stakeMicro));
      });
      Object.keys(stakeHist.by).forEach(function (a) {
        var arr = stakeHist.by[a];
        while (arr.length < n0) arr.push(null);
        while (arr.length > stakeHist.t.length) arr.shift();
      });
    }
    s.nodes.forEach(function (n) { if (n.name || n.strategy) labels[n.address] = { name: n.name, strategy: n.strategy }; });
    mergeFeed(s.feed || []);
    snapshotDirty = true;
  }
  function onMessage(ev) {
    var t0 = performance.now();
    var msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.type === 'snapshot') onSnapshot(msg.stats);
    else if (msg.type === 'feed') mergeFeed(msg.events || []);
    perf.messages++; perf.bytes += ev.data.length; perf.handleMs += performance.now() - t0;
    schedule();
  }
  function schedule() {
    if (!frameQueued) { frameQueued = true; requestAnimationFrame(render); }
  }

  var retryMs = 500;
  function connect() {
    var conn = $('connection');
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/dashboard');
    ws.onopen = function () { retryMs = 500; conn.dataset.state = 'live'; conn.querySelector('span').textContent = 'live'; };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      conn.dataset.state = 'closed';
      conn.querySelector('span').textContent = 'disconnected — retrying';
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  // ---------- drawing (once per frame at most) ----------

  function render() {
    frameQueued = false;
    if (!latest) return;
    var t0 = performance.now();
    if (snapshotDirty) { snapshotDirty = false; renderSnapshot(latest); }
    var t1 = performance.now();
    // Nobody reads a feed faster than a few times a second; redrawing it at 60 Hz under a flood of
    // events is what made the page stutter.
    if (feedDirty) {
      if (t1 - lastFeedRender >= FEED_RENDER_MS) { feedDirty = false; lastFeedRender = t1; renderFeed(); }
      else if (!feedTimer) feedTimer = setTimeout(function () { feedTimer = null; schedule(); }, FEED_RENDER_MS - (t1 - lastFeedRender));
    }
    var t2 = performance.now();
    perf.frames++; perf.snapshotRenderMs += t1 - t0; perf.feedRenderMs += t2 - t1; perf.renderMs += t2 - t0;
    document.body.dataset.snapshots = String(snapshots);
    document.body.dataset.feedEvents = String(feed.length + slashFeed.length);
  }

  function renderSnapshot(s) {
    var st = s.stats;
    $('seed').textContent = String(s.seed);
    $('uptime').textContent = clock(s.nowMs - s.startedAtMs);
    var miners = s.nodes.filter(function (n) { return n.role === 'miner'; });
    var validators = s.nodes.filter(function (n) { return n.role === 'validator'; });
    var online = s.nodes.filter(function (n) { return n.online; }).length;
    $('node-count').textContent = miners.length + ' miners, ' + validators.length + ' validators, ' + online + ' online';

    kpi('kpi-throughput', s.throughputPerSec.toFixed(1) + ' /s');
    kpi('kpi-latency', pair(s.latencyMs.p50, s.latencyMs.p95));
    kpi('kpi-ttft', s.ttftMs.p50 || s.ttftMs.p95 ? pair(s.ttftMs.p50, s.ttftMs.p95) : '–');
    var finished = st.settled + st.failed;
    kpi('kpi-success', finished ? (s.successRate * 100).toFixed(1) + '%' : '–', undefined, !finished ? '' : s.successRate >= 0.95 ? 'good' : s.successRate >= 0.8 ? 'warn' : 'bad');
    kpi('kpi-jobs', String(st.settled), 'of ' + st.submitted + ' submitted · ' + st.failed + ' failed · ' + st.reassigned + ' reassigned · ' + st.missedDeadlines + ' missed');
    kpi('kpi-audits', st.audited + ' · ' + st.disputed, st.submitted ? ((st.audited / st.submitted) * 100).toFixed(1) + '% of jobs audited' : 'none yet');
    var slashes = st.minerSlashes + st.validatorSlashes;
    kpi('kpi-slashes', String(slashes), 'miners ' + st.minerSlashes + ' · validators ' + st.validatorSlashes, slashes ? 'bad' : '');
    if (lastSlashes >= 0 && slashes > lastSlashes) {
      var el = $('kpi-slashes'); el.classList.remove('flash'); void el.offsetWidth; el.classList.add('flash');
    }
    lastSlashes = slashes;
    var ok = s.ledger.conserved && s.invariantViolations.length === 0;
    kpi('kpi-conservation', ok ? '✔ holds' : '✘ BROKEN', s.invariantViolations.length + ' invariant violations', ok ? 'good' : 'bad');

    renderMiners(miners, s.nowMs);
    renderValidators(validators);
    renderLedger(s);
    renderParams(s);
    var tc = performance.now();
    renderCharts(s, miners);
    perf.chartMs += performance.now() - tc;
  }

  function status(n) {
    if (n.ejected) return '<span class="badge ejected">ejected</span>';
    if (n.jailed) return '<span class="badge jailed">jailed</span>';
    return n.online ? '<span class="badge online">online</span>' : '<span class="badge offline">offline</span>';
  }
  function repBar(r) {
    var cls = r < 0.4 ? 'low' : r < 0.75 ? 'mid' : '';
    return r.toFixed(2) + '<span class="bar ' + cls + '"><b style="width:' + Math.round(Math.max(0, Math.min(1, r)) * 100) + '%"></b></span>';
  }
  function renderMiners(miners) {
    var html = miners.length ? miners.map(function (n) {
      return '<tr data-testid="miner-row" data-address="' + esc(n.address) + '"' + (n.ejected ? ' class="ejected"' : '') + '>' +
        '<td><i class="swatch" style="display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:6px;background:' + color(n.address) + '"></i>' + who(n.address) + '<code title="' + esc(n.address) + '">' + esc(short(n.address)) + '</code></td>' +
        '<td>' + status(n) + '</td><td>' + esc(n.region) + '</td>' +
        '<td>' + esc(n.models.join(', ')) + (n.variant ? ' <span class="muted">' + esc(n.variant) + '</span>' : '') + '</td>' +
        '<td class="num" data-testid="miner-stake" title="' + esc(n.stakeMicro) + ' micro">' + musd(n.stakeMicro, 2) + '</td>' +
        '<td class="num">' + repBar(n.reputation) + '</td>' +
        '<td class="num">' + n.jobsAssigned + '</td><td class="num">' + n.jobsSettled + '</td><td class="num">' + (n.jobsMissed ? '<span class="neg">' + n.jobsMissed + '</span>' : '0') + '</td>' +
        '<td class="num" title="' + esc(n.earnedMicro) + ' micro">' + musd(n.earnedMicro, 2) + '</td>' +
        '<td class="num">' + (n.slashes ? '<span class="neg">' + n.slashes + '</span>' : '0') + '</td>' +
        '<td class="num">' + (n.slashedMicro !== '0' ? '<span class="neg">−' + musd(n.slashedMicro, 2) + '</span>' : '0') + '</td></tr>';
    }).join('') : '<tr class="empty"><td colspan="12">waiting for miners…</td></tr>';
    setHtml($('miners-table').tBodies[0], 'miners', html);
  }
  function renderValidators(vs) {
    var html = vs.length ? vs.map(function (n) {
      return '<tr data-testid="validator-row"><td>' + who(n.address) + '<code title="' + esc(n.address) + '">' + esc(short(n.address)) + '</code></td><td>' + status(n) + '</td>' +
        '<td class="num">' + musd(n.stakeMicro, 2) + '</td><td class="num">' + n.audits + '</td><td class="num">' + musd(n.earnedMicro, 2) + '</td>' +
        '<td class="num">' + (n.slashedMicro !== '0' ? '<span class="neg">−' + musd(n.slashedMicro, 2) + '</span>' : '0') + '</td></tr>';
    }).join('') : '<tr class="empty"><td colspan="6">waiting for validators…</td></tr>';
    setHtml($('validators-table').tBodies[0], 'validators', html);
  }
  function renderLedger(s) {
    var l = s.ledger;
    var rows = [['balances', l.balancesMicro], ['escrow', l.escrowMicro], ['stakes', l.stakesMicro], ['unbonding', l.unbondingMicro], ['fees', l.feesMicro], ['burned', l.burnedMicro]];
    var held = 0n;
    rows.forEach(function (r) { try { held += BigInt(r[1]); } catch (e) { /* shown as is */ } });
    var html = rows.map(function (r) { return '<tr><td>' + r[0] + '</td><td class="num">' + musd(r[1]) + '</td></tr>'; }).join('') +
      '<tr><td><b>sum held</b></td><td class="num"><b>' + musd(held.toString()) + '</b></td></tr>' +
      '<tr><td><b>minted</b></td><td class="num"><b>' + musd(l.mintedMicro) + '</b></td></tr>';
    setHtml($('ledger-table').tBodies[0], 'ledger', html);
    var c = $('conservation');
    c.className = 'check ' + (l.conserved ? 'good' : 'bad');
    var text = (l.conserved ? '✔ minted = sum held: no token created or lost' : '✘ minted ≠ sum held: conservation VIOLATED') +
      (s.invariantViolations.length ? ' · ' + s.invariantViolations.length + ' invariant violations: ' + s.invariantViolations.slice(0, 3).join('; ') : '');
    if (c.textContent !== text) c.textContent = text;
  }
  function renderParams(s) {
    var keys = Object.keys(s.params).sort();
    var html = '<tr><td>seed</td><td class="num"><b>' + esc(s.seed) + '</b></td></tr>' +
      keys.map(function (k) { return '<tr><td><code>' + esc(k) + '</code></td><td class="num">' + esc(s.params[k]) + '</td></tr>'; }).join('');
    setHtml($('params-table').tBodies[0], 'params', html);
  }

  var KIND = { assigned: 'assigned', settled: 'settled', failed: 'failed', missed: 'missed deadline', audited: 'audited', disputed: 'disputed', slashed: 'SLASHED', 'node-online': 'online', 'node-offline': 'offline' };
  function renderFeed() {
    var slashes = slashFeed.slice(-100).reverse();
    var sHtml = slashes.length ? slashes.map(function (e) {
      return '<li class="slashed" data-testid="slash-event" data-t="' + esc(e.tMs) + '"><span class="t">' + clock(rel(e.tMs)) + '</span>' +
        '<span class="k">' + esc(e.role || 'node') + '</span>' + who(e.node) + '<code title="' + esc(e.node || '') + '">' + esc(short(e.node)) + '</code>' +
        (e.amountMicro ? '<span class="amt">−' + musd(e.amountMicro, 2) + ' mUSD</span>' : '') +
        (e.jobId ? '<code>' + esc(e.jobId) + '</code>' : '') +
        '<span class="reason" data-testid="slash-reason">' + esc(e.reason || 'no reason given') + '</span></li>';
    }).join('') : '<li class="empty">No slashes yet: nobody has been caught.</li>';
    setHtml($('slash-feed'), 'slash-feed', sHtml);
    // Activity shows everything, slashes included, newest first.
    var recent = feed.slice(-60).concat(slashFeed.slice(-20)).sort(function (a, b) { return a.tMs - b.tMs; }).slice(-60).reverse();
    var aHtml = recent.length ? recent.map(function (e) {
      return '<li class="' + esc(e.kind) + '" data-testid="feed-event" data-t="' + esc(e.tMs) + '"><span class="t">' + clock(rel(e.tMs)) + '</span><span class="k">' + esc(KIND[e.kind] || e.kind) + '</span>' +
        (e.jobId ? '<code>' + esc(e.jobId) + '</code>' : '') + (e.node ? who(e.node) + '<code title="' + esc(e.node) + '">' + esc(short(e.node)) + '</code>' : '') +
        (e.amountMicro ? '<span>' + musd(e.amountMicro, 2) + ' mUSD</span>' : '') + (e.reason ? '<span class="muted">' + esc(e.reason) + '</span>' : '') + '</li>';
    }).join('') : '<li class="empty">Waiting for jobs…</li>';
    setHtml($('activity-feed'), 'activity-feed', aHtml);
  }

  function width(el) { return Math.max(300, el.clientWidth || 500); }
  function renderCharts(s, miners) {
    var tEl = document.getElementById('chart-throughput');
    if (!charts.throughput && hist.t.length) {
      tEl.innerHTML = '';
      charts.throughput = new uPlot({
        width: width(tEl), height: 250,
        scales: { x: { time: false }, ms: {} },
        axes: [{ label: 'time since start (s)', size: 40 }, { label: 'jobs / s', size: 50 }, { scale: 'ms', side: 1, label: 'latency (ms)', size: 60, grid: { show: false } }],
        series: [{ label: 't (s)' },
          { label: 'throughput /s', stroke: '#2b8a3e', width: 2, fill: '#2b8a3e1a', points: { show: false }, value: function (u, v) { return v == null ? '–' : v.toFixed(1); } },
          { label: 'latency p50', stroke: '#3558d6', width: 2, scale: 'ms', points: { show: false }, value: function (u, v) { return v == null ? '–' : Math.round(v) + ' ms'; } },
          { label: 'latency p95', stroke: '#7048e8', width: 1.5, dash: [5, 4], scale: 'ms', points: { show: false }, value: function (u, v) { return v == null ? '–' : Math.round(v) + ' ms'; } },
          { label: 'TTFT p50', stroke: '#e8590c', width: 1.5, scale: 'ms', points: { show: false }, value: function (u, v) { return v == null ? '–' : Math.round(v) + ' ms'; } }],
      }, [hist.t, hist.thr, hist.p50, hist.p95, hist.ttft], tEl);
    } else if (charts.throughput) {
      charts.throughput.setData([hist.t, hist.thr, hist.p50, hist.p95, hist.ttft]);
    }

    // Stakes: the market's own sampled series when it has one (covers time before this page opened),
    // else what this page has seen.
    var sEl = document.getElementById('chart-stakes');
    var useMarket = s.series && s.series.tMs.length >= 2 && Object.keys(s.series.stakeMusd).length > 0;
    var xs, rec;
    if (useMarket) { xs = s.series.tMs.map(function (t) { return t / 1000; }); rec = s.series.stakeMusd; }
    else { xs = stakeHist.t; rec = stakeHist.by; }
    // Miners only (the market's series also holds validators), in the table's order; if no key is a
    // miner's address, show every series rather than nothing.
    var order = miners.map(function (n) { return n.address; }).filter(function (a) { return rec[a]; });
    if (!order.length) order = Object.keys(rec);
    if (!xs.length || !order.length) return;
    var key = (useMarket ? 'm:' : 'l:') + order.join(',');
    var data = [xs].concat(order.map(function (a) {
      var arr = rec[a];
      if (arr.length >= xs.length) return arr.length === xs.length ? arr : arr.slice(arr.length - xs.length);
      return new Array(xs.length - arr.length).fill(null).concat(arr); // joined after sampling began
    }));
    // The market samples its series about once a second; skip redraws when nothing new arrived.
    var version = xs.length + ':' + xs[xs.length - 1] + ':' + slashFeed.length;
    if (charts.stakes && charts.stakesKey === key) {
      if (charts.stakesVersion !== version) { charts.stakesVersion = version; charts.stakes.setData(data); }
      return;
    }
    charts.stakesVersion = version;
    if (charts.stakes) charts.stakes.destroy();
    sEl.innerHTML = '';
    charts.stakesKey = key;
    charts.stakes = new uPlot({
      width: width(sEl), height: 250, plugins: [slashMarks()],
      scales: { x: { time: false } },
      axes: [{ label: 'time since start (s)', size: 40 }, { label: 'stake (mUSD)', size: 60 }],
      series: [{ label: 't (s)' }].concat(order.map(function (a) {
        return { label: whoText(a), stroke: color(a), width: 2, spanGaps: false, points: { show: false }, value: function (u, v) { return v == null ? '–' : v.toFixed(2); } };
      })),
    }, data, sEl);
  }

  // Red dashed vertical lines where miners were slashed: the moment a cheater's stake drops.
  function slashMarks() {
    return { hooks: { draw: [function (u) {
      var ctx = u.ctx;
      ctx.save(); ctx.strokeStyle = 'rgba(198,40,40,.6)'; ctx.setLineDash([4, 4]); ctx.lineWidth = 1;
      slashFeed.forEach(function (e) {
        if (e.role === 'validator') return;
        var x = rel(e.tMs) / 1000;
        if (x < u.scales.x.min || x > u.scales.x.max) return;
        var px = Math.round(u.valToPos(x, 'x', true));
        ctx.beginPath(); ctx.moveTo(px, u.bbox.top); ctx.lineTo(px, u.bbox.top + u.bbox.height); ctx.stroke();
      });
      ctx.restore();
    }] } };
  }

  var resizeQueued = false;
  window.addEventListener('resize', function () {
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(function () {
      resizeQueued = false;
      if (charts.throughput) charts.throughput.setSize({ width: width(document.getElementById('chart-throughput')), height: 250 });
      if (charts.stakes) charts.stakes.setSize({ width: width(document.getElementById('chart-stakes')), height: 250 });
    });
  });

  connect();
})();
