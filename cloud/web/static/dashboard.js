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
    if (spec.type === "forecast") { return chart.setOption(forecastOption(spec, big, fmt)); }
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

  // Actual demand as bars, the forecast's mean as a line inside its interval: the band is a stack of
  // an invisible series (the low bound) and the interval's width on top of it.
  function forecastOption(spec, big, fmt) {
    var axis = big ? "#cfd8e3" : "#555";
    var width = spec.high.map(function (h, i) { return h === null || spec.low[i] === null ? null : Math.max(0, h - spec.low[i]); });
    return {
      animation: false,
      textStyle: { fontSize: big ? 18 : 12 },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, data: [spec.names.actual, spec.names.forecast, spec.names.band],
                textStyle: { fontSize: big ? 18 : 12, color: big ? "#e8eef6" : "#333" } },
      tooltip: { trigger: "axis", formatter: function (items) {
        var i = items[0].dataIndex, f = function (v) { return v === null || v === undefined ? "–" : fmt.format(v); };
        var out = [spec.categories[i], spec.names.actual + ": " + f(spec.actual[i])];
        if (spec.forecast[i] !== null) {
          out.push(spec.names.forecast + ": " + f(spec.forecast[i]), spec.names.band + ": " + f(spec.low[i]) + " – " + f(spec.high[i]));
        }
        return out.map(function (x) { return String(x).replace(/[&<>]/g, ""); }).join("<br>");
      } },
      xAxis: { type: "category", data: spec.categories, axisLabel: { color: axis } },
      yAxis: { type: "value", axisLabel: { color: axis, formatter: function (v) { return fmt.format(v); } } },
      series: [
        { name: spec.names.actual, type: "bar", data: spec.actual, itemStyle: { color: "#7c8a99" }, barMaxWidth: 22 },
        { name: "low", type: "line", data: spec.low, stack: "band", lineStyle: { opacity: 0 }, symbol: "none",
          tooltip: { show: false }, silent: true },
        { name: spec.names.band, type: "line", data: width, stack: "band", lineStyle: { opacity: 0 }, symbol: "none",
          areaStyle: { color: "rgba(47,111,223,0.18)" }, itemStyle: { color: "rgba(47,111,223,0.35)" }, silent: true },
        { name: spec.names.forecast, type: "line", data: spec.forecast, itemStyle: { color: "#2f6fdf" },
          lineStyle: { width: 2.5 }, symbolSize: 5 }
      ]
    };
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
