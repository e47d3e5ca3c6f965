// Live result of the fee calculator on /biaya-layanan/. The page works without this script (the
// "Calculate" button renders the same breakdown on the server); this only saves the round trip,
// using the JSON quote that the create form uses (transactions:quote).
(function () {
  const form = document.getElementById("fee-calculator");
  const result = document.getElementById("fee-result");
  if (!form || !result || !window.fetch) return;
  let timer = null;

  function render(data) {
    for (const [key, value] of Object.entries(data)) {
      const cell = result.querySelector('[data-field="' + key + '"]');
      if (cell) cell.textContent = value.formatted;
    }
    result.hidden = false;
  }

  function update() {
    if (!form.elements.price.value) return;
    const params = new URLSearchParams({
      price: form.elements.price.value,
      shipping_cost: form.elements.shipping_cost.value,
      fee_payer: form.elements.fee_payer.value,
    });
    fetch(form.dataset.quoteUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => { if (data) render(data); })
      .catch(() => {});
  }

  for (const name of ["price", "shipping_cost", "fee_payer"]) {
    const field = form.elements[name];
    const schedule = () => { clearTimeout(timer); timer = setTimeout(update, 300); };
    field.addEventListener("input", schedule);
    field.addEventListener("change", schedule);
  }
})();
