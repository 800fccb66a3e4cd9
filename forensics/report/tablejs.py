"""The table component of the dashboard: one small vanilla script, written once, that
draws every table (forensics/report/tables.py) from the page's JSON.

Each table gets a search box (every word must match some column; ``key:value``
matches one column, by the key its header's tooltip names), headers that sort on
click (numbers as numbers, times as times, text in natural order: 10.0.0.9 before
10.0.0.10; empty cells last either way), paging and an export of the rows that
match, in their order, as CSV made in the page (a Blob and its blob: URL: no
request leaves the page). Cells are set with textContent only: no log text is ever
parsed as HTML. An exported text cell that starts like a formula gets a leading
quote, by the one rule the page's JSON carries (core.printable.FORMULA_START).
"""

from __future__ import annotations

SCRIPT = r"""
(function () {
  "use strict";
  var source = document.getElementById("table-data");
  if (!source) { return; }
  var doc = JSON.parse(source.textContent);
  var FORMULA = doc.formula_start;
  var collator = new Intl.Collator("en", {numeric: true, sensitivity: "base"});
  var number = new Intl.NumberFormat("en");
  var SIZES = [10, 25, 50, 100, 500];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function empty(v) { return v === null || v === undefined || v === ""; }
  function text(v) { return empty(v) ? "" : String(v); }
  /* A cell as shown: numbers with thousands separators (sorted and exported raw). */
  function shown(v, kind) {
    return kind === "num" && typeof v === "number" ? number.format(v) : text(v);
  }

  /* The cell's text into td, each match of the search's words in a <mark>: text
     nodes only. (Where lower-casing changes the length, the text is left unmarked.) */
  function fill(td, value, words) {
    var low = value.toLowerCase(), marks = [], pos = 0;
    if (low.length === value.length) {
      words.forEach(function (w) {
        for (var at = low.indexOf(w); at >= 0; at = low.indexOf(w, at + w.length)) {
          marks.push([at, at + w.length]);
        }
      });
    }
    if (!marks.length) { td.textContent = value; return; }
    marks.sort(function (a, b) { return a[0] - b[0]; });
    marks.forEach(function (m) {
      if (m[1] <= pos) { return; }
      var start = Math.max(m[0], pos);
      if (start > pos) { td.appendChild(document.createTextNode(value.slice(pos, start))); }
      td.appendChild(el("mark", "", value.slice(start, m[1])));
      pos = m[1];
    });
    if (pos < value.length) { td.appendChild(document.createTextNode(value.slice(pos))); }
  }

  function decode(t) {
    var cols = t.data.map(function (c) {
      if (c.seconds) {
        return c.seconds.map(function (s) {
          if (s === null) { return null; }
          return new Date((c.epoch + s) * 1000).toISOString().slice(0, 19).replace("T", " ");
        });
      }
      return c.values ? c.values : c.codes.map(function (i) { return c.dict[i]; });
    });
    var rows = [];
    for (var r = 0; r < t.length; r++) {
      var row = [], hay = [];
      for (var j = 0; j < cols.length; j++) {
        var v = cols[j][r];
        row.push(v);
        hay.push((typeof v === "number" ? v + " " + number.format(v) : text(v)).toLowerCase());
      }
      /* hay: each cell as searched; all: the cells in one string (one search for a word) */
      rows.push({row: row, hay: hay, all: hay.join("\u0001"), i: r});
    }
    return rows;
  }

  function comparer(kind, j, dir) {
    return function (a, b) {
      var x = a.row[j], y = b.row[j], c;
      if (empty(x) || empty(y)) {
        c = empty(x) && empty(y) ? 0 : (empty(x) ? 1 : -1);
        return c !== 0 ? c : a.i - b.i;  /* empty cells last, whichever the direction */
      }
      if (kind === "num") { c = x - y; }
      else if (kind === "time") { c = x < y ? -1 : (x > y ? 1 : 0); }
      else { c = collator.compare(String(x), String(y)); }
      return c !== 0 ? c * dir : a.i - b.i;
    };
  }

  function terms(query, keys) {
    return query.toLowerCase().split(/[\s\u0001]+/).filter(Boolean).map(function (word) {
      var at = word.indexOf(":");
      var key = at > 0 ? word.slice(0, at) : "";
      if (key && at < word.length - 1 && Object.prototype.hasOwnProperty.call(keys, key)) {
        return {col: keys[key], word: word.slice(at + 1)};
      }
      return {col: -1, word: word};
    });
  }

  function matches(item, wanted) {
    for (var k = 0; k < wanted.length; k++) {
      var w = wanted[k];
      if (w.col >= 0) {
        if (item.hay[w.col].indexOf(w.word) < 0) { return false; }
      } else if (item.all.indexOf(w.word) < 0) {
        return false;
      }
    }
    return true;
  }

  function csvCell(v) {
    var s = text(v);
    if (typeof v === "string" && FORMULA.some(function (p) { return s.indexOf(p) === 0; })) {
      s = "'" + s;
    }
    return '"' + s.replace(/"/g, '""') + '"';
  }

  function mount(t) {
    var root = document.getElementById("dt-" + t.id);
    if (!root) { return; }
    var table = root.querySelector("table");
    var body = table.querySelector("tbody");
    var heads = table.querySelectorAll("thead th");
    var all = decode(t);
    var keys = {};
    t.columns.forEach(function (c, j) { keys[c.key] = j; });
    var state = {query: "", terms: [], col: -1, dir: 1, page: 0, size: t.page_size, view: all};

    var bar = el("div", "dt-bar");
    var search = el("input", "dt-search");
    search.type = "search";
    function kind(k) { return t.columns.filter(function (c) { return c.kind === k; })[0]; }
    var example = kind("text") || kind("token") || t.columns[0];
    search.placeholder = "Search all columns, or " + example.key + ":value";
    search.setAttribute("aria-label", "Search the " + t.noun);
    search.title = "Every word must match a column; key:value matches one column. Keys: " +
      t.columns.map(function (c) { return c.key; }).join(", ");
    var count = el("span", "dt-count");
    var pager = el("span", "dt-pager");
    function button(label, title, go) {
      var b = el("button", "dt-go", label);
      b.type = "button";
      b.title = title;
      b.addEventListener("click", function () { go(); draw(); });
      pager.appendChild(b);
      return b;
    }
    var first = button("\u00ab", "First page", function () { state.page = 0; });
    var prev = button("\u2039 Previous", "Previous page", function () { state.page -= 1; });
    var where = el("span", "dt-page");
    pager.appendChild(where);
    var next = button("Next \u203a", "Next page", function () { state.page += 1; });
    var last = button("\u00bb", "Last page", function () { state.page = pages() - 1; });
    var sizer = el("select", "dt-size");
    sizer.setAttribute("aria-label", "Rows per page");
    SIZES.concat([t.page_size]).filter(function (n, k, a) { return a.indexOf(n) === k; })
      .sort(function (a, b) { return a - b; }).forEach(function (n) {
        var o = el("option", "", String(n) + " per page");
        o.value = String(n);
        o.selected = n === t.page_size;
        sizer.appendChild(o);
      });
    sizer.addEventListener("change", function () {
      state.size = parseInt(sizer.value, 10);
      state.page = 0;
      draw();
    });
    var csv = el("button", "dt-csv", "Export CSV");
    csv.type = "button";
    csv.addEventListener("click", exportCsv);
    [search, count, pager, sizer, csv].forEach(function (e) { bar.appendChild(e); });
    root.insertBefore(bar, root.querySelector(".dt-scroll"));

    heads.forEach(function (th, j) {
      var b = el("button", "dt-sort", t.columns[j].label);
      b.type = "button";
      b.title = "Sort by " + t.columns[j].label + " (filter: " + t.columns[j].key + ":value)";
      th.textContent = "";
      th.appendChild(b);
      b.addEventListener("click", function () {
        if (state.col === j) { state.dir = -state.dir; } else { state.col = j; state.dir = 1; }
        state.page = 0;
        refresh();
      });
    });

    function pages() { return Math.max(1, Math.ceil(state.view.length / state.size)); }

    function refresh() {
      var wanted = state.terms = terms(state.query, keys);
      var view = !wanted.length ? all.slice() : all.filter(function (item) {
        return matches(item, wanted);
      });
      if (state.col >= 0) { view.sort(comparer(t.columns[state.col].kind, state.col, state.dir)); }
      state.view = view;
      draw();
    }

    function draw() {
      state.page = Math.min(Math.max(0, state.page), pages() - 1);
      var from = state.page * state.size;
      var page = state.view.slice(from, from + state.size);
      var rows = document.createDocumentFragment();
      var words = t.columns.map(function (c, j) {
        return state.terms.filter(function (w) { return w.col < 0 || w.col === j; })
          .map(function (w) { return w.word; });
      });
      page.forEach(function (item) {
        var tr = el("tr");
        item.row.forEach(function (v, j) {
          var td = el("td", "k-" + t.columns[j].kind);
          fill(td, shown(v, t.columns[j].kind), words[j]);
          tr.appendChild(td);
        });
        rows.appendChild(tr);
      });
      if (!page.length) {
        var none = el("td", "dt-none", all.length ? "No row matches the search." : "No rows.");
        none.colSpan = t.columns.length;
        var tr = el("tr");
        tr.appendChild(none);
        rows.appendChild(tr);
      }
      body.replaceChildren(rows);
      heads.forEach(function (th, j) {
        var sort = state.dir > 0 ? "ascending" : "descending";
        th.setAttribute("aria-sort", j === state.col ? sort : "none");
      });
      var n = state.view.length;
      var span = n ? number.format(from + 1) + "\u2013" + number.format(from + page.length) : "0";
      count.textContent = "Rows " + span + " of " + number.format(n) + (n === all.length
        ? " " + t.noun : " matching (" + number.format(all.length) + " " + t.noun + ")");
      where.textContent = "page " + number.format(state.page + 1) + " of " + number.format(pages());
      first.disabled = prev.disabled = state.page === 0;
      next.disabled = last.disabled = state.page >= pages() - 1;
      csv.textContent = "Export CSV (" + number.format(n) + " rows)";
      csv.disabled = n === 0;
      root.dataset.matching = String(n);
      root.dataset.page = String(state.page + 1);
    }

    function exportCsv() {
      var lines = [t.columns.map(function (c) { return csvCell(c.label); }).join(",")];
      state.view.forEach(function (item) { lines.push(item.row.map(csvCell).join(",")); });
      var content = "\ufeff" + lines.join("\r\n") + "\r\n";
      var blob = new Blob([content], {type: "text/csv;charset=utf-8"});
      var url = URL.createObjectURL(blob);
      var a = el("a");
      a.href = url;
      a.download = t.name + ".csv";
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    }

    search.addEventListener("input", function () {
      state.query = search.value;
      state.page = 0;
      refresh();
    });
    root.classList.add("dt-live");
    refresh();
  }

  doc.tables.forEach(mount);
})();
"""
