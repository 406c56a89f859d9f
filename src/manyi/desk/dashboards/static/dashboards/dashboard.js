/* Draws every plotly figure on the page: <script type="application/json" data-plotly="ID">
   holds the figure of the element #ID. Runs at load and after every htmx swap (blocks arriving,
   the live view refreshing); Plotly.react updates a drawn chart in place. */
(function () {
  "use strict";
  function draw(root) {
    if (typeof Plotly === "undefined") { return; }
    (root || document).querySelectorAll("script[data-plotly]").forEach(function (el) {
      var target = document.getElementById(el.getAttribute("data-plotly"));
      if (!target) { return; }
      var fig = JSON.parse(el.textContent);
      Plotly.react(target, fig.data, fig.layout, { displayModeBar: false, responsive: true });
      target.setAttribute("data-drawn", String(Date.now()));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
