(function () {
  const card = document.getElementById("progress-card");
  if (!card) return;
  const poll = async () => {
    const data = await (await fetch(card.dataset.statusUrl, { credentials: "same-origin" })).json();
    document.getElementById("import-progress").value = data.progress;
    document.getElementById("import-progress-text").textContent = data.progress + " %";
    if (data.state === "validating" || data.state === "importing") { setTimeout(poll, 1000); }
    else { window.location.reload(); }
  };
  setTimeout(poll, 500);
})();
