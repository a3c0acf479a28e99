// The live alert: what appeared since the page opened, pushed by the server (Server-Sent Events, no polling).
// When new suspicious payments arrive, the table of the latest ones is read again: at once, and once more when the
// server's answers (kept a few seconds, data-cache-seconds) are sure to include them.
(function () {
  const banner = document.getElementById("alerts");
  const section = document.getElementById("suspicious");
  if (!banner || !window.EventSource) return;

  async function refreshSuspicious() {
    if (!section) return;
    try {
      const response = await fetch(section.dataset.url, { headers: { Accept: "application/json" }, cache: "no-cache" });
      const data = await response.json();
      const table = document.createElement("table");
      const head = table.createTHead().insertRow();
      data.columns.forEach((c) => { const th = document.createElement("th"); th.textContent = c.replaceAll("_", " "); head.append(th); });
      const body = table.createTBody();
      data.rows.forEach((row) => { const tr = body.insertRow(); row.forEach((v) => { tr.insertCell().textContent = v; }); });
      const holder = document.getElementById("suspicious-table");
      holder.replaceChildren(data.rows.length ? table : Object.assign(document.createElement("p"), { className: "muted", textContent: "Nothing for these filters." }));
      document.getElementById("suspicious-updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (e) { /* the next alert reads it again */ }
  }

  function plural(n, one, many) { return n.toLocaleString() + " " + (n === 1 ? one : many); }

  let suspicious = 0;
  const source = new EventSource(banner.dataset.url);
  source.addEventListener("alert", (event) => {
    const counts = JSON.parse(event.data);
    const parts = [];
    if (counts.suspicious) parts.push(plural(counts.suspicious, "suspicious payment", "suspicious payments"));
    if (counts.beyond_sla) parts.push(plural(counts.beyond_sla, "payment pending beyond SLA", "payments pending beyond SLA"));
    banner.textContent = "Since this page opened: " + parts.join(", ") + ".";
    banner.hidden = parts.length === 0;
    if (counts.suspicious !== suspicious) {
      suspicious = counts.suspicious;
      refreshSuspicious();
      if (section) setTimeout(refreshSuspicious, (Number(section.dataset.cacheSeconds) + 0.5) * 1000);
    }
  });
})();
