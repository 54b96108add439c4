// bandi's pages: the menu on small screens, the server's clock, the countdown to the
// opening and the live counters of a call (server-sent events); in the reserved area, the
// amounts of the application form computed by the server as the person types, the
// statuses of the entity's applications on its dashboard (server-sent events), the name
// of the file chosen in an upload field, and the receipt's print button. The pages work
// without this file: it only keeps the figures moving. The server's clock counts, never
// the browser's: the offset between the two is taken from the time the server wrote into
// the page.
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
      // The form's submit button is active only while the call is open by the server's
      // clock: it turns on at the opening without a reload (the server checks it anyway).
      var submit = document.getElementById('submit-application');
      if (submit && !submit.dataset.submittedElsewhere) submit.disabled = state !== 'open';
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
    var en = document.documentElement.lang === 'en';
    var percentSep = en ? '.' : ',';
    var source = new EventSource(box.dataset.events);
    source.addEventListener('counters', function (e) {
      var c;
      try { c = JSON.parse(e.data); } catch (err) { return; }
      text('live-remaining', en ? c.remaining_en : c.remaining);
      text('live-reserved', en ? c.reserved_en : c.reserved);
      text('live-applications', c.applications);
      text('live-waitlisted', c.waitlisted);
      text('fact-budget', en ? c.budget_en : c.budget);
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

  // The amounts while the person types: the fields go to the server (debounced), which
  // computes the total, the eligible cost, the grant and the notices with the very rules
  // of the submission, and stores nothing; the answer fills the live region. On any
  // failure the figures stay as they were and a note says to save instead.
  function applicationForm(form) {
    var box = document.getElementById('amounts');
    var list = document.getElementById('amounts-notices');
    var stale = document.getElementById('amounts-stale');
    if (!box || !box.dataset.preview) return;
    var timer = null;
    var asked = 0;
    function fields() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (typeof value === 'string' && key !== 'action') params.append(key, value);
      });
      return params;
    }
    function show(a) {
      text('total-cost', a.total);
      text('eligible-cost', a.counted ? a.eligible : '—');
      text('requested-grant', a.counted ? a.requested : '—');
      var texts = (a.notices || []).map(function (n) { return n.text; });
      var now = Array.prototype.map.call(list.children, function (li) { return li.textContent; });
      if (texts.join('\n') !== now.join('\n')) {
        while (list.firstChild) list.removeChild(list.firstChild);
        texts.forEach(function (t) {
          var li = document.createElement('li');
          li.className = 'notice';
          li.textContent = t;
          list.appendChild(li);
        });
      }
      // The notices under the rows were those of the last save; the list above is current.
      form.querySelectorAll('tr.line-notice').forEach(function (tr) { tr.remove(); });
    }
    function ask() {
      var mine = ++asked;
      fetch(box.dataset.preview, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Accept': 'application/json' },
        body: fields().toString()
      }).then(function (res) {
        var json = /^application\/json/.test(res.headers.get('Content-Type') || '');
        if (!res.ok || !json) throw new Error('preview ' + res.status);
        return res.json();
      }).then(function (a) {
        if (mine !== asked) return;
        show(a);
        if (stale) stale.hidden = true;
      }).catch(function () {
        if (mine === asked && stale) stale.hidden = false;
      });
    }
    function later() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(ask, 300);
    }
    form.addEventListener('input', function (e) {
      var t = e.target;
      if (t && t.type !== 'file' && (t.closest('.budget-lines'))) later();
    });
    form.addEventListener('change', function (e) {
      var t = e.target;
      if (t && t.tagName === 'SELECT' && t.closest('.budget-lines')) later();
    });
  }

  // Bootstrap Italia's upload fields hide the file input behind its button: the name of
  // the file chosen is written under it (the browser would show it in the input).
  function uploads() {
    document.querySelectorAll('input.upload[type="file"]').forEach(function (input) {
      var out = document.getElementById(input.id + '-chosen');
      if (!out) return;
      input.addEventListener('change', function () {
        var names = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
        out.textContent = names.length ? (out.dataset.label || '') + ' ' + names.join(', ') : '';
      });
    });
  }

  // The entity's applications on its dashboard: the server sends the status and the
  // amount reserved of each whenever they change; a change is also announced.
  // The newest application to `call` among `rows` once there are more than `made`.
  function submittedTo(rows, call, made) {
    var mine = rows.filter(function (r) { return r.call === call; });
    return mine.length > made ? { row: mine[0], count: mine.length } : null;
  }

  function showLink(a, r) {
    if (!a) return;
    a.textContent = r.protocol;
    a.setAttribute('href', r.href);
  }

  // A form, or a call's card, whose application was submitted elsewhere says so with the
  // protocol, and offers no more to submit.
  function followCards(rows) {
    document.querySelectorAll('.call-option[data-call]').forEach(function (card) {
      var done = submittedTo(rows, card.dataset.call, Number(card.dataset.made));
      if (!done) return;
      var note = card.querySelector('.call-submitted');
      if (note) { showLink(note.querySelector('a'), done.row); note.hidden = false; }
      var limit = Number(card.dataset.limit);
      var go = card.querySelector('.call-option-go');
      if (go && limit > 0 && done.count >= limit) go.hidden = true;
    });
  }

  function submittedElsewhere(box) {
    if (!window.EventSource || !box.dataset.events) return;
    var source = new EventSource(box.dataset.events);
    source.addEventListener('statuses', function (e) {
      var rows;
      try { rows = JSON.parse(e.data); } catch (err) { return; }
      var done = submittedTo(rows, box.dataset.call, Number(box.dataset.made));
      if (!done) return;
      showLink(document.getElementById('submitted-elsewhere-link'), done.row);
      box.hidden = false;
      ['submit-application', 'save-draft'].forEach(function (id) {
        var b = document.getElementById(id);
        if (b) { b.disabled = true; b.dataset.submittedElsewhere = '1'; }
      });
      source.close();
    });
  }

  function statuses(table) {
    if (!window.EventSource || !table.dataset.events) return;
    var said = document.getElementById('applications-live');
    var fresh = document.getElementById('applications-new');
    var source = new EventSource(table.dataset.events);
    source.addEventListener('statuses', function (e) {
      var rows;
      try { rows = JSON.parse(e.data); } catch (err) { return; }
      var news = [];
      followCards(rows);
      rows.forEach(function (r) {
        var tr = table.querySelector('tr[data-id="' + (window.CSS && CSS.escape ? CSS.escape(r.id) : r.id) + '"]');
        if (!tr) {
          // An application this page does not list (sent from another tab or person):
          // never go on saying there is none, and name it.
          if (fresh) {
            showLink(fresh.querySelector('.new-protocol'), r);
            fresh.hidden = false;
          }
          if (table.id === 'no-applications') table.hidden = true;
          return;
        }
        var status = tr.querySelector('[data-field="status"]');
        var reserved = tr.querySelector('[data-field="reserved"]');
        if (status && status.textContent !== r.status) {
          status.textContent = r.status;
          status.className = 'status ' + r.status_class;
          news.push(r.protocol + ': ' + r.status);
        }
        if (reserved && reserved.textContent !== r.reserved) reserved.textContent = r.reserved;
      });
      if (said && news.length) said.textContent = news.join('; ');
    });
  }

  ready(function () {
    menu();
    uploads();
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
    var applications = document.getElementById('applications') || document.getElementById('no-applications');
    if (applications) statuses(applications);
    var elsewhere = document.getElementById('submitted-elsewhere');
    if (elsewhere) submittedElsewhere(elsewhere);
  });
})();
