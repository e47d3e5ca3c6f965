// Progressive behaviour shared by every page (the pages work without it). Kept in a file: the
// Content-Security-Policy allows no inline script or event handler attributes. Parts of pages are
// swapped in by htmx (live status), so buttons are handled by delegation and swapped content is
// set up again on htmx's "htmx:load".
(function () {
  document.documentElement.classList.add("js");

  // <select data-autosubmit> submits its form on change; a <noscript> button does it otherwise.
  document.addEventListener("change", function (event) {
    const select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // A message after a redirect to a part of a page (#tujuan-pencairan, #email) is shown where the
  // page opens, not at its top, which is out of view on a phone. Without JavaScript it stays on top.
  (function () {
    const messages = document.querySelector("main > .messages");
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!messages || !target) return;
    target.insertBefore(messages, target.firstChild);
    target.scrollIntoView();
  })();

  // The header's menu button folds the navigation on a phone.
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest && event.target.closest(".menu-toggle");
    if (!toggle) return;
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("menu-open", open);
  });

  // Copy buttons: data-copy="#field" copies the field's value and says so where the button is.
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    const field = document.querySelector(button.dataset.copy);
    if (!field || !navigator.clipboard) return;
    navigator.clipboard.writeText(field.value).then(function () {
      const label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      button.textContent = "✓ " + label;
      button.classList.add("copied");
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 2000);
    });
  });

  // The phone's share sheet (Web Share API), where the browser has one.
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-share-url]");
    if (!button || !navigator.share) return;
    navigator.share({ title: button.dataset.shareTitle, text: button.dataset.shareText,
                      url: button.dataset.shareUrl }).catch(function () {});
  });

  function pad(n) { return String(n).padStart(2, "0"); }

  // Countdowns: the visible timer ticks every second (role=timer is not announced); a polite live
  // region says the time left only now and then: every ten minutes, every minute in the last five.
  function startCountdowns(root) {
    root.querySelectorAll("[data-countdown]").forEach(function (el) {
      if (el.dataset.started) return;
      el.dataset.started = "1";
      const end = new Date(el.dataset.countdown).getTime();
      const announce = el.parentElement.querySelector("[data-countdown-announce]");
      let lastSaid = null;
      function tick() {
        if (!el.isConnected) return;
        const left = Math.max(0, end - Date.now());
        const h = Math.floor(left / 3600000), m = Math.floor(left / 60000) % 60, s = Math.floor(left / 1000) % 60;
        el.textContent = pad(h) + ":" + pad(m) + ":" + pad(s);
        const minutes = Math.ceil(left / 60000);
        const due = minutes <= 5 ? minutes : Math.ceil(minutes / 10) * 10;
        if (announce && lastSaid !== null && due !== lastSaid) {
          announce.textContent = announce.dataset.template.replace("{time}", pad(h) + ":" + pad(m));
        }
        lastSaid = due;
        if (left > 0) setTimeout(tick, 1000);
      }
      tick();
    });
    root.querySelectorAll("[data-share-url]").forEach(function (button) {
      if (navigator.share) button.hidden = false;
    });
  }
  startCountdowns(document);
  document.addEventListener("htmx:load", function (event) { startCountdowns(event.target); });
})();
