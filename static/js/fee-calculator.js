// Live fee breakdown on the create form and the fee calculator. The pages work without this script
// (their "Calculate" buttons render the same breakdown on the server); this only saves the round
// trip, using the JSON quote (transactions:quote). An invalid amount never leaves a stale breakdown:
// the figures are blanked and the reason is shown at the field.
(function () {
  function setup(form, box, hideBox) {
    let timer = null;
    let latest = 0;

    function fieldError(name, messages) {
      const field = form.elements[name];
      if (!field) return;
      let note = form.querySelector('[data-live-error="' + name + '"]');
      if (!messages) { if (note) note.remove(); field.removeAttribute("aria-invalid"); return; }
      if (!note) {
        note = document.createElement("span");
        note.className = "errorlist live-error";
        note.dataset.liveError = name;
        note.id = "live-error-" + name;
        note.setAttribute("role", "alert");
        field.insertAdjacentElement("afterend", note);
        field.setAttribute("aria-describedby", note.id);
      }
      note.textContent = messages.join(" ");
      field.setAttribute("aria-invalid", "true");
    }

    function render(data) {
      for (const [key, value] of Object.entries(data)) {
        const cell = box.querySelector('[data-field="' + key + '"]');
        if (cell) cell.textContent = value.formatted.replace(" ", "\u00a0");  // "Rp" stays with its digits
      }
      if (hideBox) box.hidden = false;
      box.classList.remove("stale");
    }

    function blank() {
      box.querySelectorAll("[data-field]").forEach(function (cell) { cell.textContent = "—"; });
      if (hideBox) box.hidden = true;
      box.classList.add("stale");
    }

    function update() {
      const request = ++latest;
      if (!form.elements.price.value) { blank(); fieldError("price", null); return; }
      const params = new URLSearchParams({
        price: form.elements.price.value,
        shipping_cost: form.elements.shipping_cost.value,
        fee_payer: form.elements.fee_payer.value,
      });
      fetch((box.dataset.quoteUrl || form.dataset.quoteUrl) + "?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (answer) {
          if (request !== latest) return;  // an older answer arriving late
          if (answer.ok) {
            fieldError("price", null); fieldError("shipping_cost", null); render(answer.data);
          } else {
            blank();
            const errors = answer.data.errors || {};
            fieldError("price", errors.price || null);
            fieldError("shipping_cost", errors.shipping_cost || null);
          }
        })
        .catch(function () {});
    }

    for (const name of ["price", "shipping_cost", "fee_payer"]) {
      const field = form.elements[name];
      if (!field) continue;
      const schedule = function () { clearTimeout(timer); timer = setTimeout(update, 300); };
      field.addEventListener("input", schedule);
      field.addEventListener("change", schedule);
    }
  }

  const create = document.getElementById("create-form");
  const breakdown = document.getElementById("fee-breakdown");
  if (create && breakdown && window.fetch) setup(create, breakdown, false);
  const calculator = document.getElementById("fee-calculator");
  const result = document.getElementById("fee-result");
  if (calculator && result && window.fetch) setup(calculator, result, true);
})();
