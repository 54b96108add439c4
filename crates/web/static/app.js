// bandi's pages: the menu on small screens, the server's clock, the countdown to the opening and the live
// counters of a call (server-sent events); in the reserved area, the running total of the
// application form and the receipt's print button. The pages work without this file: it only
// keeps the figures moving. The server's clock counts, never the browser's: the offset
// between the two is taken from the time the server wrote into the page.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  function ready(fn) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn);
    else fn();
  }

  var WORDS = {
    it: { d: ['giorno', 'giorni'], h: ['ora', 'ore'], m: ['minuto', 'minuti'], s: ['secondo', 'secondi'], and: ' e ' },
    en: { d: ['day', 'days'], h: ['hour', 'hours'], m: ['minute', 'minutes'], s: ['second', 'seconds'], and: ' and ' }
  };

  // The same words as the server's i18n::duration.
  function duration(totalSeconds, lang) {
    var w = WORDS[lang] || WORDS.it;
    var s = Math.max(0, Math.floor(totalSeconds));
    var parts = [[Math.floor(s / 86400), w.d], [Math.floor(s / 3600) % 24, w.h], [Math.floor(s / 60) % 60, w.m], [s % 60, w.s]];
    var out = [];
    var started = false;
    parts.forEach(function (p, i) {
      if (p[0] === 0 && !started && i < 3) return;
      started = true;
      out.push(p[0] + ' ' + (p[0] === 1 ? p[1][0] : p[1][1]));
    });
    if (out.length < 2) return out.join('');
    return out.slice(0, -1).join(', ') + w.and + out[out.length - 1];
  }

  function text(id, value) {
    var el = document.getElementById(id);
    if (el && el.textContent !== String(value)) el.textContent = value;
  }

  function clock(root) {
    var d = root.dataset;
    var offset = Number(d.serverTime) - Date.now();
    var opensAt = Number(d.opensAt);
    var closesAt = Number(d.closesAt);
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat('it-IT', {
        timeZone: d.timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false
      });
    } catch (e) {
      fmt = null;
    }
    function tick() {
      var now = Date.now() + offset;
      if (fmt) text('server-time', fmt.format(new Date(now)).replace(',', ''));
      var state;
      if (now < opensAt) {
        state = 'upcoming';
        text('countdown-label', d.labelOpens);
        text('countdown', duration((opensAt - now) / 1000, d.lang));
      } else if (now < closesAt) {
        state = 'open';
        text('countdown-label', d.labelCloses);
        text('countdown', duration((closesAt - now) / 1000, d.lang));
      } else {
        state = 'closed';
        text('countdown-label', d.labelClosed);
        text('countdown', d.closesLocal);
      }
      setState(root, state);
    }
    tick();
    setInterval(tick, 1000);
  }

  function setState(root, state) {
    var el = document.getElementById('call-state');
    if (!el || !state) return;
    var label = root.dataset['state' + state.charAt(0).toUpperCase() + state.slice(1)];
    if (!label) return;
    el.className = 'state state-' + state;
    text('call-state', label);
  }

  function live(box, clockRoot) {
    if (!window.EventSource) return;
    var percentSep = document.documentElement.lang === 'en' ? '.' : ',';
    var source = new EventSource(box.dataset.events);
    source.addEventListener('counters', function (e) {
      var c;
      try { c = JSON.parse(e.data); } catch (err) { return; }
      text('live-remaining', c.remaining);
      text('live-reserved', c.reserved);
      text('live-applications', c.applications);
      text('live-waitlisted', c.waitlisted);
      text('fact-budget', c.budget);
      var bar = document.getElementById('live-progress');
      if (bar) {
        bar.max = Math.max(1, c.budget_cents);
        bar.value = c.reserved_cents;
        var permille = c.budget_cents > 0 ? Math.floor(c.reserved_cents * 1000 / c.budget_cents) : 0;
        var pct = Math.floor(permille / 10) + percentSep + (permille % 10) + '%';
        bar.textContent = pct;
        text('live-percent', pct);
      }
      if (clockRoot) setState(clockRoot, c.state);
    });
  }

  // The main menu on small screens, with Bootstrap Italia's classes: the toggler opens
  // the panel, the close button, Escape and a click outside close it.
  function menu() {
    var toggler = document.querySelector('.custom-navbar-toggler');
    var panel = toggler && document.getElementById(toggler.getAttribute('aria-controls'));
    if (!panel) return;
    var overlay = panel.querySelector('.overlay');
    var close = panel.querySelector('.close-menu');
    function show() {
      panel.style.display = 'block';
      if (overlay) overlay.style.display = 'block';
      toggler.setAttribute('aria-expanded', 'true');
      window.requestAnimationFrame(function () {
        panel.classList.add('expanded');
        if (close) close.focus();
      });
    }
    function hide() {
      if (!panel.classList.contains('expanded')) return;
      panel.classList.remove('expanded');
      toggler.setAttribute('aria-expanded', 'false');
      window.setTimeout(function () {
        panel.style.display = '';
        if (overlay) overlay.style.display = '';
      }, 300);
      toggler.focus();
    }
    toggler.addEventListener('click', show);
    if (close) close.addEventListener('click', hide);
    if (overlay) overlay.addEventListener('click', hide);
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') hide();
    });
  }

  // Euro as people type them, the rules of the server's Money::parse_euros: `52500`,
  // `52.500,00`, `52500,5`, `52500.50`. Cents as an integer, or null.
  function parseEuros(input) {
    var s = String(input).trim().replace(/^€/, '').replace(/€$/, '').trim();
    if (!s) return null;
    var negative = s.charAt(0) === '-';
    if (negative) s = s.slice(1);
    function strip(x) {
      var groups = x.split('.');
      if (!groups[0] || (groups[0].length > 3 && groups.length > 1)) return null;
      for (var i = 1; i < groups.length; i++) if (groups[i].length !== 3) return null;
      return groups.join('');
    }
    var whole, frac = '';
    var comma = s.indexOf(',');
    if (comma >= 0) {
      whole = strip(s.slice(0, comma));
      frac = s.slice(comma + 1);
    } else {
      var dot = s.lastIndexOf('.');
      if (dot < 0) whole = s;
      else if (dot === s.length - 1) return null;
      else if (s.length - dot - 1 === 3) whole = strip(s);
      else { whole = strip(s.slice(0, dot)); frac = s.slice(dot + 1); }
    }
    if (whole === null || !/^\d+$/.test(whole) || frac.length > 2 || !/^\d*$/.test(frac)) return null;
    var cents = Number(whole) * 100 + (frac.length === 1 ? Number(frac) * 10 : Number(frac || 0));
    return negative ? -cents : cents;
  }

  // `52.500,00 €`, as the server's Money displays.
  function formatEuros(cents) {
    var euros = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.');
    var c = cents % 100;
    return euros + ',' + (c < 10 ? '0' : '') + c + ' €';
  }

  // The total of the budget lines while the person types; the eligible cost and the
  // grant are the server's, computed at every save.
  function applicationForm(form) {
    var total = document.getElementById('total-cost');
    var stale = document.getElementById('amounts-stale');
    if (!total) return;
    function update() {
      var sum = 0;
      form.querySelectorAll('input.amount').forEach(function (input) {
        var cents = parseEuros(input.value);
        if (cents !== null && cents > 0) sum += cents;
      });
      text('total-cost', formatEuros(sum));
    }
    form.addEventListener('input', function (e) {
      if (e.target && e.target.classList && e.target.classList.contains('amount')) update();
      if (stale) stale.hidden = false;
    });
    form.addEventListener('change', function () {
      if (stale) stale.hidden = false;
    });
  }

  ready(function () {
    menu();
    var form = document.getElementById('application-form');
    if (form) applicationForm(form);
    // After a refused submission, the list of problems is read first.
    var summary = document.getElementById('error-summary');
    if (summary) summary.focus();
    var print = document.getElementById('print-receipt');
    if (print) print.addEventListener('click', function () { window.print(); });
    var clockRoot = document.getElementById('clock');
    if (clockRoot) clock(clockRoot);
    var box = document.getElementById('live');
    if (box) live(box, clockRoot);
  });
})();
