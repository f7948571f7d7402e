// Selects marked data-autosubmit submit their form on change (no inline handlers: CSP).
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
