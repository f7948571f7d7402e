document.getElementById("select-all")?.addEventListener("change", (e) => {
  document.querySelectorAll("#user-table input[name=selected]").forEach((box) => {
    box.checked = e.target.checked;
  });
});
