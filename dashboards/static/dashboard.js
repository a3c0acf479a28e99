// The latest suspicious transactions, refreshed every 5 seconds without reloading the page.
(function () {
  const section = document.getElementById("suspicious");
  if (!section) return;
  async function refresh() {
    try {
      const response = await fetch(section.dataset.url, { headers: { Accept: "application/json" } });
      const data = await response.json();
      const table = document.createElement("table");
      const head = table.createTHead().insertRow();
      data.columns.forEach((c) => { const th = document.createElement("th"); th.textContent = c.replaceAll("_", " "); head.append(th); });
      const body = table.createTBody();
      data.rows.forEach((row) => { const tr = body.insertRow(); row.forEach((v) => { tr.insertCell().textContent = v; }); });
      const holder = document.getElementById("suspicious-table");
      holder.replaceChildren(data.rows.length ? table : Object.assign(document.createElement("p"), { className: "muted", textContent: "Nothing for these filters." }));
      document.getElementById("suspicious-updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (e) { /* the next refresh tries again */ }
  }
  setInterval(refresh, 5000);
})();
