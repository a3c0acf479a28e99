// The upload page: drag-and-drop, a progress bar, and the server's answer shown in place.
(function () {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const dropText = document.getElementById("drop-text");
  const progress = document.getElementById("progress");
  const progressText = document.getElementById("progress-text");
  const error = document.getElementById("error");
  const submit = document.getElementById("submit");

  function chosen() {
    dropText.textContent = input.files.length ? input.files[0].name : "Drop a CSV file here, or choose one";
  }
  input.addEventListener("change", chosen);
  ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      chosen();
    }
  });

  function fail(message) {
    error.textContent = message;
    error.hidden = false;
    progress.hidden = true;
    progressText.textContent = "";
    submit.disabled = false;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!input.files.length) { fail("Choose a CSV file to upload."); return; }
    // The server would refuse it (413) only after the whole upload, or cut the connection: say so now, as the app.
    if (input.files[0].size > Number(form.dataset.maxBytes)) { fail(form.dataset.tooLarge); return; }
    error.hidden = true;
    submit.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "upload");
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        progress.value = Math.round((e.loaded / e.total) * 100);
        progressText.textContent = progress.value < 100
          ? `Uploading… ${progress.value}%` : "Archiving, checking and publishing the rows…";
      }
    });
    // Once the whole file is sent, the import may go on after the answer is lost (a proxy that stopped waiting,
    // a dropped connection): only the app's own answer says what happened.
    let sent = false;
    request.upload.addEventListener("load", () => { sent = true; });
    const unknown = (what) => fail(`${what}, so this page cannot tell whether the file was imported: `
      + "it may still complete. Look in Imports before uploading it again.");
    request.addEventListener("load", () => {
      let answer = {};
      try { answer = JSON.parse(request.responseText); } catch (e) { /* not JSON: a proxy's page */ }
      if (answer.location) { window.location.assign(answer.location); return; }
      if (request.status === 413) { fail(form.dataset.tooLarge); return; }
      if (answer.error) { fail(answer.error); return; }
      unknown(`The app's answer did not arrive (the server answered ${request.status})`);
    });
    request.addEventListener("error", () => {
      if (sent) unknown("The connection was lost after the file was sent");
      else fail("The upload did not reach the server; nothing was imported.");
    });
    request.send(new FormData(form));
  });
})();
