// The only script the pages need: draw spend charts from the JSON the server rendered, and copy buttons.
"use strict";

function drawSpendChart() {
  const canvas = document.getElementById("spend-chart");
  const data = document.getElementById("spend-chart-data");
  if (!canvas || !data || typeof Chart === "undefined") return;
  const chart = JSON.parse(data.textContent);
  const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#4f46e5";
  const palette = [accent, "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b"];
  const datasets = Object.entries(chart.series).map(([metric, values], i) => ({
    label: metric,
    data: values.map(Number), // display only: every amount shown as text comes formatted from the server
    backgroundColor: palette[i % palette.length],
    borderRadius: 3,
    stack: "spend",
  }));
  new Chart(canvas, {
    type: "bar",
    data: { labels: chart.labels, datasets },
    options: {
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom" } },
      scales: {
        x: { stacked: true, grid: { display: false }, title: { display: true, text: "Day" } },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: `Cost (${chart.unit})` } },
      },
    },
  });
}

function wireCopyButtons() {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.querySelector(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch {
        window.getSelection().selectAllChildren(source);
        button.textContent = "Press Ctrl+C";
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  drawSpendChart();
  wireCopyButtons();
});
