/* ADU dashboard: live progress, the table chooser, small conveniences.
   Served from this origin only (CSP: script-src 'self'); every page works without it. */
(function () {
  "use strict";

  var ACTIVE_MS = 2000;
  var IDLE_MS = 10000;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* ---- live regions: an element with data-live="URL" is replaced by a fresh render
     of itself; it polls fast while data-active="1" (a job is queued or running). */
  function openDetails(el) {
    var open = [];
    el.querySelectorAll("details").forEach(function (d, i) { if (d.open) { open.push(i); } });
    return open;
  }

  function live(el) {
    var delay = el.getAttribute("data-active") === "1" ? ACTIVE_MS : IDLE_MS;
    window.setTimeout(function () { refresh(el); }, delay);
  }

  function refresh(el) {
    if (!document.body.contains(el)) { return; }
    if (document.hidden) { live(el); return; }
    fetch(el.getAttribute("data-live"), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "text/html" }
    }).then(function (resp) {
      var type = resp.headers.get("Content-Type") || "";
      if (!resp.ok || type.indexOf("text/html") !== 0 || resp.redirected) {
        if (resp.status >= 500 || resp.status === 0) { live(el); }
        return null;  /* signed out or gone: stop polling */
      }
      return resp.text();
    }).then(function (html) {
      if (html === null || html === undefined) { return; }
      var tpl = document.createElement("template");
      tpl.innerHTML = html;
      var fresh = tpl.content.querySelector("[data-live]");
      if (!fresh) { return; }
      var open = openDetails(el);
      var details = fresh.querySelectorAll("details");
      open.forEach(function (i) { if (details[i]) { details[i].open = true; } });
      el.replaceWith(fresh);
      live(fresh);
    }).catch(function () { live(el); });
  }

  /* ---- the table chooser of the new-job form */
  function initChooser(root) {
    var tools = root.querySelector("[data-chooser-tools]");
    var chooser = root.querySelector("[data-chooser]");
    if (!tools || !chooser) { return; }
    tools.hidden = false;
    var filter = tools.querySelector("[data-table-filter]");
    var count = tools.querySelector("[data-count]");
    var items = Array.prototype.slice.call(chooser.querySelectorAll("li[data-name]"));

    function update() {
      var chosen = chooser.querySelectorAll('input[name="table"]:checked').length;
      var shown = items.filter(function (li) { return !li.hidden; }).length;
      count.textContent = chosen + " chosen, " + shown + " of " + items.length + " shown";
    }
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      items.forEach(function (li) { li.hidden = q !== "" && li.getAttribute("data-name").indexOf(q) < 0; });
      chooser.querySelectorAll("fieldset.schema").forEach(function (fs) {
        fs.hidden = fs.querySelectorAll("li[data-name]:not([hidden])").length === 0;
      });
      update();
    });
    tools.querySelectorAll("[data-select]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var on = btn.getAttribute("data-select") === "all";
        items.forEach(function (li) {
          var box = li.querySelector('input[name="table"]');
          if (!on) { box.checked = false; } else if (!li.hidden) { box.checked = true; }
        });
        if (!on) { chooser.querySelectorAll('input[name="schema"]').forEach(function (b) { b.checked = false; }); }
        update();
      });
    });
    chooser.addEventListener("change", update);
    update();
  }

  function initDiscover() {
    var btn = document.querySelector("button[data-discover]");
    if (!btn) { return; }
    var form = btn.form;
    var target = document.getElementById("table-chooser");
    btn.addEventListener("click", function (ev) {
      ev.preventDefault();
      var data = new FormData(form);
      data.set("action", "discover");
      btn.disabled = true;
      target.setAttribute("aria-busy", "true");
      target.textContent = "Discovering…";
      fetch(btn.getAttribute("data-discover"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" }
      }).then(function (resp) { return resp.text(); }).then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html;
        target.replaceChildren(tpl.content);
        initChooser(target);
        var first = target.querySelector("[data-table-filter], input, .error");
        if (first && first.focus) { first.focus(); }
      }).catch(function () {
        target.textContent = "Discovery failed: the server did not answer.";
      }).finally(function () {
        btn.disabled = false;
        target.removeAttribute("aria-busy");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(live);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
    document.querySelectorAll("[data-confirm]").forEach(function (b) {
      b.addEventListener("click", function (ev) {
        if (!window.confirm(b.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
    var chooser = document.getElementById("table-chooser");
    if (chooser) { initChooser(chooser); }
    initDiscover();
  });
}());
