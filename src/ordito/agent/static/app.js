// ordito web app: keyboard shortcuts and evidence links. No inline scripts (the CSP forbids them).
(function () {
  "use strict";

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("#timeline-items > .item"));
  }

  function move(step) {
    var list = items();
    if (!list.length) return;
    var i = list.indexOf(document.activeElement);
    var next = list[Math.max(0, Math.min(list.length - 1, i < 0 ? 0 : i + step))];
    next.focus();
  }

  function flash(el) {
    el.classList.add("flash");
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
    setTimeout(function () { el.classList.remove("flash"); }, 2500);
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(document.activeElement)) {
      if (e.key === "Escape") document.activeElement.blur();
      return;
    }
    var search = document.getElementById("q") || document.getElementById("q-top");
    switch (e.key) {
      case "/":
        if (search) { e.preventDefault(); search.focus(); search.select(); }
        break;
      case "j": move(1); break;
      case "k": move(-1); break;
      case "b": var b = document.getElementById("brief"); if (b) { e.preventDefault(); b.focus(); } break;
      case "t": var t = document.getElementById("timeline-items"); if (t) { e.preventDefault(); move(0); } break;
      case "f": var f = document.querySelector("#filters input"); if (f) { e.preventDefault(); f.focus(); } break;
      case "?": var h = document.getElementById("help"); if (h && h.showModal) { e.preventDefault(); h.showModal(); } break;
    }
  });

  // an evidence link jumps to its event in the timeline, or shows it in a dialog when it is not loaded
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a.ev") : null;
    if (!a) return;
    var el = document.getElementById("ev-" + a.getAttribute("data-seq"));
    e.preventDefault();
    if (el) { flash(el); return; }
    var dlg = document.getElementById("evidence");
    if (window.htmx && dlg) {
      window.htmx.ajax("GET", a.getAttribute("data-url"), { target: "#evidence-body", swap: "innerHTML" }).then(function () {
        if (!dlg.open) dlg.showModal();
      });
    }
  });

  // new events arriving live are marked for a few seconds
  document.addEventListener("htmx:afterSwap", function (e) {
    var fresh = document.querySelectorAll("#timeline-items > .item.new");
    if (!fresh.length) return;
    setTimeout(function () {
      Array.prototype.forEach.call(fresh, function (el) { el.classList.remove("new"); });
    }, 4000);
    var status = document.getElementById("live-status");
    if (status) status.textContent = fresh.length + " new event" + (fresh.length > 1 ? "s" : "") + " just arrived";
  });
})();
