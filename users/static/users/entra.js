// While a test or import runs: poll its state, show the users read, reload when it ends.
(function () {
  const section = document.getElementById("entra-run");
  if (!section || !section.dataset.statusUrl) { return; }
  async function poll() {
    const response = await fetch(section.dataset.statusUrl, { credentials: "same-origin" });
    const data = await response.json();
    if (!data.running) { window.location.reload(); return; }
    setTimeout(poll, 1500);
  }
  setTimeout(poll, 1500);
})();
