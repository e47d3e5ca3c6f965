// Copy buttons and the expiry countdown on the payment page (the page works without them).
(function () {
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      const field = document.querySelector(button.dataset.copy);
      if (!field) return;
      navigator.clipboard.writeText(field.value).then(function () {
        const label = button.textContent;
        button.textContent = "✓";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    const end = new Date(el.dataset.countdown).getTime();
    function tick() {
      const left = Math.max(0, end - Date.now());
      const h = Math.floor(left / 3600000), m = Math.floor(left / 60000) % 60, s = Math.floor(left / 1000) % 60;
      el.textContent = String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
      if (left > 0) setTimeout(tick, 1000);
    }
    tick();
  });
})();
