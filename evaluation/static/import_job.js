// Import progress: poll the job's status and reload the page when the file has been read.
(function () {
  var text = document.getElementById("import-progress-text");
  var bar = document.getElementById("import-progress");
  var value = document.getElementById("import-progress-value");
  if (!text || !bar || !value) return;
  function poll() {
    fetch(text.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        bar.value = job.progress;
        value.textContent = job.progress;
        if (job.status === "queued" || job.status === "running") {
          setTimeout(poll, 700);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();
