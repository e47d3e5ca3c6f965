// Progressive behaviour shared by every page (the pages work without it). Kept in a file: the
// Content-Security-Policy allows no inline script or event handler attributes.
(function () {
  // <select data-autosubmit> submits its form on change; a <noscript> button does it otherwise.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) select.form.submit();
    });
  });
})();
