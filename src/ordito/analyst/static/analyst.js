// ordito analyst pages: draw each view's figures when it arrives, and open the episodes behind a clicked
// point. No inline scripts (the CSP forbids them): figures travel as JSON in a data attribute.
(function () {
  "use strict";
  var cfg = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };

  function filters() {
    var el = document.getElementById("an-sections");
    return el ? el.getAttribute("data-filters") || "" : "";
  }

  function drillUrl(custom) {
    var f = filters();
    return "/analytics/episodes?" + (f ? f + "&" : "") + custom;
  }

  function draw(section) {
    var data = section.querySelector(".an-figs");
    var figs = data ? JSON.parse(data.getAttribute("data-figs") || "[]") : [];
    var els = section.querySelectorAll(".fig");
    var pending = els.length;
    if (!pending) { section.setAttribute("data-loaded", "yes"); return; }
    Array.prototype.forEach.call(els, function (el) {
      var fig = figs[Number(el.getAttribute("data-figure"))];
      if (!fig || !window.Plotly) {
        el.setAttribute("data-rendered", "no");
        pending -= 1;
        if (!pending) section.setAttribute("data-loaded", "yes");
        return;
      }
      window.Plotly.newPlot(el, fig.data, fig.layout, cfg).then(function () {
        el.setAttribute("data-rendered", "yes");
        el.on("plotly_click", function (ev) {
          var p = ev && ev.points && ev.points[0];
          var custom = p && p.customdata;
          if (typeof custom === "string" && custom.indexOf("drill=") === 0) {
            window.location.href = drillUrl(custom);
          }
        });
        pending -= 1;
        if (!pending) section.setAttribute("data-loaded", "yes");
      });
    });
  }

  document.addEventListener("htmx:afterSwap", function (e) {
    var t = e.detail && e.detail.target;
    if (t && t.classList && t.classList.contains("an-section")) {
      t.removeAttribute("aria-busy");
      draw(t);
    }
  });
  document.addEventListener("htmx:responseError", function (e) {
    var t = e.detail && e.detail.target;
    if (t && t.classList && t.classList.contains("an-section")) {
      t.removeAttribute("aria-busy");
      t.setAttribute("data-loaded", "error");
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = "This view could not be loaded (" + e.detail.xhr.status + ").";
      t.appendChild(p);
    }
  });
  // a filter change applies at once (the Apply button stays for keyboard users)
  var form = document.getElementById("an-filters");
  if (form) {
    form.addEventListener("change", function (e) {
      if (e.target && e.target.tagName === "SELECT") form.submit();
    });
  }
})();
