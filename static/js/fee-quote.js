// Live fee breakdown on the create form. The form works without this script (the
// "Calculate fee" button renders the same breakdown on the server).
(function () {
  const form = document.getElementById("create-form");
  const box = document.getElementById("fee-breakdown");
  if (!form || !box) return;
  let timer = null;

  function render(data) {
    const table = box.querySelector("table");
    if (!table) return;
    for (const [key, value] of Object.entries(data)) {
      const cell = table.querySelector('[data-field="' + key + '"]');
      if (cell) cell.textContent = value.formatted;
    }
  }

  function update() {
    const params = new URLSearchParams({
      price: form.elements.price.value,
      shipping_cost: form.elements.shipping_cost.value,
      fee_payer: form.elements.fee_payer.value,
    });
    if (!form.elements.price.value) return;
    fetch(box.dataset.quoteUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then((r) => r.ok ? r.json() : null)
      .then((data) => { if (data) render(data); })
      .catch(() => {});
  }

  for (const name of ["price", "shipping_cost", "fee_payer"]) {
    form.elements[name].addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 300); });
  }
})();
