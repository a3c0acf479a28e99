// An import's live status: how many of its rows the ingestion service has saved or refused, until it is done.
(function () {
  const panel = document.getElementById("status");
  if (!panel) return;
  const number = (n) => n.toLocaleString("en-US");
  function cell(text, numeric) {
    const td = document.createElement("td");
    td.textContent = text;
    if (numeric) td.className = "num";
    return td;
  }
  async function refresh() {
    let status;
    try {
      const response = await fetch(panel.dataset.url, { headers: { Accept: "application/json" } });
      status = await response.json();
    } catch (e) {
      setTimeout(refresh, 4000);
      return;
    }
    document.getElementById("in-database").textContent = number(status.in_database);
    document.getElementById("rejected").textContent = number(status.rejected);
    document.getElementById("older").textContent = number(status.older);
    document.getElementById("state").textContent = status.complete ? "complete" : "in progress…";
    const rows = document.getElementById("rejection-rows");
    rows.replaceChildren(...status.rejections.map((r) => {
      const tr = document.createElement("tr");
      tr.append(cell(r.line, true), cell(r.reasons.join("; "), false));
      return tr;
    }));
    document.getElementById("rejections").hidden = status.rejected === 0;
    if (!status.complete) setTimeout(refresh, 1500);
  }
  refresh();
})();
