// Statistics charts: draws the JSON in <script type="application/json" id="stats-data"> into
// #stats-chart with uPlot. The page's tables carry the same numbers, so nothing is lost when
// scripts are off; no inline script is needed (the console's CSP forbids them).
(function () {
  "use strict";

  var COLOURS = {
    "issued": "#1f5fbf",
    "passed": "#1a7f37",
    "failed": "#b3261e",
    "escalated": "#8a5a00",
    "verified": "#6b3fa0",
    "verify-failed": "#555555",
    "refused": "#b35c00",
    "sent": "#1f5fbf",
    "approved": "#1a7f37"
  };

  // Counts are whole numbers: no 0.2 ticks on the y axis.
  var WHOLE = [];
  [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000].forEach(function (power) {
    WHOLE.push(power, 2 * power, 5 * power);
  });

  function readJson(id) {
    var block = document.getElementById(id);
    if (!block) { return null; }
    try { return JSON.parse(block.textContent); } catch (e) { return null; }
  }

  // The page's language: axis and legend labels from <script id="stats-labels">, else English.
  var LABELS = readJson("stats-labels") || {};
  function label(name, fallback) { return LABELS[name] || fallback; }

  // Ticks in digits, which read the same in every language the console speaks (uPlot's defaults
  // name months and say "12pm" in English): whole days as MM-DD, hours as HH:00 with the date at
  // midnight.
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function dayOf(ts) { var d = new Date(ts * 1000); return pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()); }
  function hourOf(ts) { return pad(new Date(ts * 1000).getUTCHours()) + ":00"; }
  function xAxis(by) {
    var hour = 3600, day = 86400;
    if (by === "day") {
      return {
        values: function (u, splits) { return splits.map(dayOf); },
        incrs: [day, 2 * day, 7 * day, 14 * day]
      };
    }
    return {
      values: function (u, splits) {
        return splits.map(function (ts) { return ts % day === 0 ? dayOf(ts) : hourOf(ts); });
      },
      incrs: [hour, 2 * hour, 3 * hour, 6 * hour, 12 * hour, day, 2 * day, 7 * day]
    };
  }

  function draw(target, data) {
    var series = [{ label: data.by === "hour" ? label("hour", "Hour (UTC)") : label("day", "Day (UTC)") }];
    var columns = [data.x];
    data.series.forEach(function (s) {
      series.push({
        label: (LABELS.metrics && LABELS.metrics[s.metric]) || s.label,
        stroke: COLOURS[s.metric] || "#333333",
        width: 2,
        points: { show: data.x.length <= 48 }
      });
      columns.push(s.values);
    });
    var width = Math.max(280, Math.min(target.clientWidth || 800, 1100));
    var options = {
      width: width,
      height: 300,
      series: series,
      scales: { x: { time: true } },
      axes: [xAxis(data.by), { label: label("count", "Count"), incrs: WHOLE }],
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); }
    };
    return new uPlot(options, columns, target);
  }

  function start() {
    var target = document.getElementById("stats-chart");
    var data = readJson("stats-data");
    if (!target || !data || typeof uPlot === "undefined") { return; }
    var chart = draw(target, data);
    var resize = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(resize);
      resize = window.setTimeout(function () {
        chart.setSize({ width: Math.max(280, Math.min(target.clientWidth, 1100)), height: 300 });
      }, 150);
    });
    target.setAttribute("data-drawn", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
