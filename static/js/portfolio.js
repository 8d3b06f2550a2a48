/* A portfolio's upload (templates/works/portfolio.html): pictures, a folder or a zip (unpacked
   here with fflate), sent one file per request, PORTFOLIO_UPLOADS_AT_ONCE at a time, with a progress bar; a refusal is
   listed by file name and the rest go on. The optional CSV goes first. */
(function () {
  "use strict";

  var IMAGE = /\.(jpe?g|png|webp)$/i;
  var HIDDEN = /(^|\/)(__MACOSX\/|\.)/;  // macOS resource forks, dot files

  function init(root) {
    var W = window.PortalWallet;
    var inputs = [root.querySelector("#portfolio-files"), root.querySelector("#portfolio-folder")];
    var csv = root.querySelector("#portfolio-csv");
    var progress = root.querySelector("#portfolio-progress");
    var status = root.querySelector("#portfolio-status");
    var refused = root.querySelector("#portfolio-refused");
    var next = root.querySelector("#portfolio-continue");
    var room = parseInt(root.dataset.max, 10) - parseInt(root.dataset.count, 10);

    async function post(url, body) {
      var response = await fetch(url, {
        method: "POST", credentials: "same-origin", body: body,
        headers: { Accept: "application/json", "X-CSRFToken": W.csrfToken() }
      });
      var data = {};
      try { data = await response.json(); } catch (err) { data = {}; }
      return { ok: response.ok, status: response.status, data: data };
    }

    function refuse(name, reason) {
      var item = document.createElement("li");
      var file = document.createElement("strong");
      file.textContent = name;
      item.append(file, ": " + reason);
      refused.appendChild(item);
    }

    function busy(on) {
      inputs.concat([csv]).forEach(function (input) { input.disabled = on; });
    }

    /* Zips are unpacked in the browser; what is not a picture is listed, not sent. */
    async function expand(files) {
      var out = [];
      for (var i = 0; i < files.length; i++) {
        var file = files[i];
        var path = file.webkitRelativePath || file.name;
        if (/\.zip$/i.test(file.name)) {
          var entries;
          try {
            entries = window.fflate.unzipSync(new Uint8Array(await file.arrayBuffer()), {
              filter: function (entry) { return IMAGE.test(entry.name) && !HIDDEN.test(entry.name); }
            });
          } catch (err) { refuse(file.name, "this zip could not be opened (" + (err.message || err) + ")"); continue; }
          Object.keys(entries).sort().forEach(function (name) {
            out.push(new File([entries[name]], name.split("/").pop()));
          });
        } else if (HIDDEN.test(path)) {
          continue;
        } else if (IMAGE.test(file.name)) {
          out.push(file);
        } else {
          refuse(file.name, "not a JPEG, PNG or WebP picture, nor a zip of them");
        }
      }
      return out;
    }

    async function upload(files) {
      if (files.length > room) {
        files.slice(room).forEach(function (file) { refuse(file.name, "the portfolio is full (" + root.dataset.max + " works at most); start another one for it"); });
        files = files.slice(0, Math.max(room, 0));
      }
      if (!files.length) { W.show(status, "No pictures to add.", "error"); return; }
      progress.hidden = false;
      progress.max = files.length;
      progress.value = 0;
      var done = 0, added = 0, cursor = 0;
      async function worker() {
        while (cursor < files.length) {
          var file = files[cursor++];
          var body = new FormData();
          body.append("file", file, file.name);
          var result;
          try { result = await post(root.dataset.fileUrl, body); }
          catch (err) { result = { ok: false, data: { error: "the portal could not be reached; add it again" } }; }
          if (result.ok) added += 1;
          else refuse(file.name, result.data.error || "refused (HTTP " + result.status + ")");
          done += 1;
          progress.value = done;
          W.show(status, "Added " + added + " of " + files.length + (done > added ? " (" + (done - added) + " refused)" : "") + "…", "info");
        }
      }
      var workers = [];
      var atOnce = Math.max(1, parseInt(root.dataset.atOnce, 10) || 1);
      for (var i = 0; i < atOnce; i++) workers.push(worker());
      await Promise.all(workers);
      room -= added;
      var refusedCount = files.length - added;
      W.show(status, added + " of " + files.length + " pictures added" +
        (refusedCount ? "; " + refusedCount + " refused, listed below." : "."), added ? "ok" : "error");
      if (added && !refusedCount) window.location.reload();
      else if (added) next.hidden = false;
    }

    inputs.forEach(function (input) {
      input.addEventListener("change", async function () {
        busy(true);
        try { await upload(await expand(Array.prototype.slice.call(input.files))); }
        finally { busy(false); input.value = ""; }
      });
    });

    csv.addEventListener("change", async function () {
      var file = csv.files[0];
      if (!file) return;
      var body = new FormData();
      body.append("csv", file, file.name);
      var result;
      try { result = await post(root.dataset.csvUrl, body); }
      catch (err) { W.show(status, "The portal could not be reached; add the CSV again.", "error"); return; }
      if (result.ok) W.show(status, "The CSV names " + result.data.rows + " pictures; add them now.", "ok");
      else W.show(status, result.data.error || "The CSV was refused.", "error");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("portfolio-upload");
    if (root) init(root);
  });
})();
