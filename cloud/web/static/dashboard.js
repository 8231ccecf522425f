// Draws the charts a panel carries (data-chart: ECharts data built on the server) and shows whether
// the live stream is connected. Panels refresh themselves through htmx; this only reacts.
(function () {
  "use strict";
  var palette = ["#2f6fdf", "#f0a020", "#d9534f", "#5bb98c", "#8e6fd8", "#49b6d6", "#c7789a", "#7c8a99"];

  function draw(el) {
    var spec;
    try { spec = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
    var old = echarts.getInstanceByDom(el);
    if (old) { old.dispose(); }
    var big = document.body.classList.contains("big");
    var chart = echarts.init(el, null, { renderer: "svg", locale: spec.locale === "zh-Hans" ? "ZH" : "EN" });
    var fmt = new Intl.NumberFormat(spec.locale);
    chart.setOption({
      animation: false,
      color: palette,
      textStyle: { fontSize: big ? 18 : 12 },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, textStyle: { fontSize: big ? 18 : 12, color: big ? "#e8eef6" : "#333" } },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return fmt.format(v); } },
      xAxis: { type: "category", data: spec.categories, axisLabel: { color: big ? "#cfd8e3" : "#555" } },
      yAxis: { type: "value", axisLabel: { color: big ? "#cfd8e3" : "#555", formatter: function (v) { return fmt.format(v); } } },
      series: spec.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "all", data: s.data, barMaxWidth: 48 };
      })
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll(".chart[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.body && document.body.addEventListener("htmx:afterSwap", function (e) { drawAll(e.target); });
  document.addEventListener("htmx:afterSwap", function (e) { drawAll(e.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      var c = echarts.getInstanceByDom(el); if (c) { c.resize(); }
    });
  });

  function liveState(on) {
    var el = document.getElementById("live-state");
    if (!el) { return; }
    el.textContent = el.getAttribute(on ? "data-on" : "data-off");
    el.classList.toggle("off", !on);
  }
  document.addEventListener("htmx:sseOpen", function () { liveState(true); });
  document.addEventListener("htmx:sseError", function () { liveState(false); });
})();
