// The template editor: the email block builder (rows of columns of blocks, reordered by
// dragging — Sortable from Debian), the HTML editor (CodeMirror from Debian), the SMS length,
// and a live preview as a chosen profile with the template's errors as you type.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) return;
  var channel = form.getAttribute("data-channel");
  var templateId = form.getAttribute("data-template");
  var L = JSON.parse(form.getAttribute("data-labels") || "{}");
  var csrf = form.querySelector("input[name=_csrf]").value;
  var field = function (name) { return form.querySelector("[name='" + name + "']"); };
  var value = function (name) { var f = field(name); return f ? f.value : ""; };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  // ---- HTML editor
  var htmlArea = document.getElementById("f-html"), codeMirror = null;
  function startCodeMirror() {
    if (codeMirror || !htmlArea || !window.CodeMirror) return;
    codeMirror = window.CodeMirror.fromTextArea(htmlArea, { mode: "htmlmixed", lineNumbers: true, lineWrapping: true });
    codeMirror.on("change", function () { codeMirror.save(); schedule(); });
  }

  // ---- Block builder
  var designArea = document.getElementById("f-design"), builder = document.getElementById("block-builder");
  var design = null;
  try { design = designArea && designArea.value ? JSON.parse(designArea.value) : null; } catch (e) { design = null; }
  if (!design) design = { rows: [] };
  design.rows = design.rows || [];
  var selected = null;

  var blockDefaults = {
    text: { content: "Text" }, image: { src: "https://", alt: "", width: 560 }, button: { label: "Open", href: "https://", align: "left" },
    divider: { height: 1 }, spacer: { height: 24 }, social: { links: [{ network: "Telegram", url: "https://t.me/" }] },
    html: { content: "<p></p>" }, products: { source: "recommendations", limit: 3, imageKey: "image", titleKey: "title", priceKey: "price", linkKey: "url" }
  };
  var blockFields = {
    text: [["content", "textarea"], ["size", "number"], ["align", "align"]],
    image: [["src", "text"], ["alt", "text"], ["href", "text"], ["width", "number"], ["align", "align"]],
    button: [["label", "text"], ["href", "text"], ["color", "color"], ["textColor", "color"], ["align", "align"]],
    divider: [["height", "number"], ["color", "color"]],
    spacer: [["height", "number"]],
    social: [["links", "links"], ["align", "align"]],
    html: [["content", "textarea"]],
    products: [["source", "text"], ["limit", "number"], ["imageKey", "text"], ["titleKey", "text"], ["priceKey", "text"], ["linkKey", "text"]]
  };
  var labelKey = { textColor: "text_color", imageKey: "image_key", titleKey: "title_key", priceKey: "price_key", linkKey: "link_key" };

  function designChanged(rerender) {
    designArea.value = JSON.stringify(design);
    if (rerender) renderBuilder();
    schedule();
  }

  function summary(block) {
    var text = block.label || block.content || block.src || block.source || "";
    return (L[block.type] || block.type) + (text ? ": " + String(text).replace(/<[^>]*>/g, "").slice(0, 48) : "");
  }

  function properties(block) {
    var box = el("div", { "class": "block-properties border-top mt-1 pt-1" });
    (blockFields[block.type] || []).forEach(function (pair) {
      var key = pair[0], kind = pair[1], id = "prop-" + key;
      var label = el("label", { "class": "form-label small mb-0", "for": id, text: L[labelKey[key] || key] || key });
      var input;
      if (kind === "textarea") {
        input = el("textarea", { "class": "form-control form-control-sm font-monospace", id: id, rows: "4" });
        input.value = block[key] || "";
      } else if (kind === "align") {
        input = el("select", { "class": "form-select form-select-sm", id: id });
        ["left", "center", "right"].forEach(function (a) { var o = el("option", { value: a, text: L[a] || a }); if ((block.align || "left") === a) o.selected = true; input.appendChild(o); });
      } else if (kind === "links") {
        input = el("textarea", { "class": "form-control form-control-sm", id: id, rows: "3", placeholder: "Telegram https://t.me/…" });
        input.value = (block.links || []).map(function (l) { return l.network + " " + l.url; }).join("\n");
      } else {
        input = el("input", { "class": "form-control form-control-sm", id: id, type: kind === "number" ? "number" : "text" });
        input.value = block[key] === undefined || block[key] === null ? "" : block[key];
      }
      input.addEventListener("input", function () {
        if (kind === "number") block[key] = input.value === "" ? null : Number(input.value);
        else if (kind === "links") block.links = input.value.split("\n").map(function (line) { var p = line.trim().split(/\s+/); return { network: p[0] || "", url: p[1] || "" }; }).filter(function (l) { return l.network && l.url; });
        else block[key] = input.value;
        summaryNode(block).textContent = summary(block);
        designChanged(false);
      });
      input.addEventListener("change", function () { designChanged(false); });
      box.appendChild(el("div", { "class": "mb-1" }, [label, input]));
    });
    return box;
  }

  var summaries = new Map();
  function summaryNode(block) { return summaries.get(block); }

  function renderBuilder() {
    if (!builder) return;
    builder.textContent = "";
    summaries = new Map();
    design.rows.forEach(function (row, rowIndex) {
      var rowBox = el("div", { "class": "builder-row border rounded p-2 mb-2 bg-white", "data-row": String(rowIndex) });
      var tools = el("div", { "class": "d-flex gap-1 mb-1 small align-items-center" }, [
        el("span", { "class": "row-handle text-muted", text: "⠿", style: "cursor:move", title: L.up + " / " + L.down }),
        el("span", { "class": "text-muted me-auto", text: (L.columns || "columns") + ": " + row.columns.length }),
        el("input", { type: "color", value: row.background || "#ffffff", title: L.row_background || "background", "class": "form-control form-control-color form-control-sm", oninput: function (e) { row.background = e.target.value; designChanged(false); } }),
        el("button", { type: "button", "class": "btn btn-sm btn-outline-secondary", text: "↑", title: L.up, onclick: function () { if (rowIndex > 0) { design.rows.splice(rowIndex - 1, 0, design.rows.splice(rowIndex, 1)[0]); designChanged(true); } } }),
        el("button", { type: "button", "class": "btn btn-sm btn-outline-secondary", text: "↓", title: L.down, onclick: function () { if (rowIndex < design.rows.length - 1) { design.rows.splice(rowIndex + 1, 0, design.rows.splice(rowIndex, 1)[0]); designChanged(true); } } }),
        el("button", { type: "button", "class": "btn btn-sm btn-outline-danger remove-row", text: "×", title: L.remove, onclick: function () { design.rows.splice(rowIndex, 1); designChanged(true); } })
      ]);
      rowBox.appendChild(tools);
      var columnsBox = el("div", { "class": "d-flex gap-2" });
      row.columns.forEach(function (column, columnIndex) {
        var list = el("div", { "class": "builder-column flex-fill border rounded p-1", style: "min-height:48px;min-width:0", "data-row": String(rowIndex), "data-column": String(columnIndex) });
        column.blocks.forEach(function (block, blockIndex) {
          var item = el("div", { "class": "builder-block border rounded p-1 mb-1 bg-light", "data-type": block.type });
          var head = el("div", { "class": "d-flex gap-1 align-items-center" }, [
            el("span", { "class": "drag-handle text-muted", text: "⠿", style: "cursor:move" }),
            el("button", { type: "button", "class": "btn btn-link btn-sm p-0 text-start flex-fill text-truncate block-summary", text: summary(block), onclick: function () { selected = selected === block ? null : block; renderBuilder(); } }),
            el("button", { type: "button", "class": "btn btn-sm btn-link text-danger p-0", text: "×", title: L.remove, onclick: function () { column.blocks.splice(blockIndex, 1); designChanged(true); } })
          ]);
          summaries.set(block, head.querySelector(".block-summary"));
          item.appendChild(head);
          if (selected === block) item.appendChild(properties(block));
          list.appendChild(item);
        });
        var add = el("select", { "class": "form-select form-select-sm add-block", "aria-label": L.pick_block });
        add.appendChild(el("option", { value: "", text: "+ " + (L.pick_block || "block") }));
        Object.keys(blockDefaults).forEach(function (type) { add.appendChild(el("option", { value: type, text: L[type] || type })); });
        add.addEventListener("change", function () {
          if (!add.value) return;
          var block = Object.assign({ type: add.value }, JSON.parse(JSON.stringify(blockDefaults[add.value])));
          column.blocks.push(block);
          selected = block;
          designChanged(true);
        });
        list.appendChild(add);
        columnsBox.appendChild(list);
        if (window.Sortable) {
          window.Sortable.create(list, {
            group: "blocks", handle: ".drag-handle", draggable: ".builder-block",
            onEnd: function (event) {
              var from = design.rows[+event.from.getAttribute("data-row")].columns[+event.from.getAttribute("data-column")];
              var to = design.rows[+event.to.getAttribute("data-row")].columns[+event.to.getAttribute("data-column")];
              var moved = from.blocks.splice(event.oldDraggableIndex, 1)[0];
              to.blocks.splice(event.newDraggableIndex, 0, moved);
              designChanged(true);
            }
          });
        }
      });
      rowBox.appendChild(columnsBox);
      builder.appendChild(rowBox);
    });
    var addRow = el("div", { "class": "d-flex gap-1 align-items-center" }, [el("span", { "class": "small", text: L.add_row || "Add a row" })]);
    [1, 2, 3].forEach(function (n) {
      addRow.appendChild(el("button", { type: "button", "class": "btn btn-sm btn-outline-primary add-row", "data-columns": String(n), text: n + " ▥", onclick: function () {
        var columns = [];
        for (var i = 0; i < n; i++) columns.push({ blocks: [] });
        design.rows.push({ columns: columns });
        designChanged(true);
      } }));
    });
    builder.appendChild(addRow);
    if (window.Sortable && !builder.getAttribute("data-sortable")) {
      builder.setAttribute("data-sortable", "rows");
      window.Sortable.create(builder, {
        handle: ".row-handle", draggable: ".builder-row",
        onEnd: function (event) {
          if (event.oldDraggableIndex === event.newDraggableIndex) return;
          design.rows.splice(event.newDraggableIndex, 0, design.rows.splice(event.oldDraggableIndex, 1)[0]);
          designChanged(true);
        }
      });
    }
  }

  function mode() { var m = form.querySelector("input[name=mode]:checked"); return m ? m.value : "html"; }
  function showMode() {
    if (!builder) return;
    var blocks = mode() === "blocks";
    builder.hidden = !blocks;
    document.getElementById("html-editor").hidden = blocks;
    if (!blocks) startCodeMirror();
    schedule();
  }
  form.querySelectorAll("input[name=mode]").forEach(function (radio) { radio.addEventListener("change", showMode); });

  // ---- Content, preview, checks
  function content() {
    var c = { subject: value("subject"), preheader: value("preheader"), fromName: value("fromName"), fromAddress: value("fromAddress"),
      replyTo: value("replyTo"), html: codeMirror ? codeMirror.getValue() : value("html"), text: value("text"), title: value("title"),
      body: value("body"), image: value("image"), link: value("link"), buttons: [] };
    for (var i = 0; i < 3; i++) {
      var t = value("button" + i + "Title"), l = value("button" + i + "Link");
      if (t || l) c.buttons.push({ title: t, link: l });
    }
    if (channel === "email" && mode() === "blocks") c.design = design;
    return c;
  }

  var timer = null, sequence = 0;
  function schedule() { clearTimeout(timer); timer = setTimeout(refresh, 350); }

  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }

  function refresh() {
    var mine = ++sequence;
    var profile = document.getElementById("preview-profile").value;
    post("/templates/" + templateId + "/preview", { content: content(), profileId: profile || null }).then(function (answer) {
      if (mine !== sequence) return;
      showErrors(answer.errors || [], answer.failure);
      if (!answer.errors || !answer.errors.length) showPreview(answer.parts || {}, answer.profile);
    }).catch(function () {});
    if (channel === "sms") {
      post("/templates/check", { channel: "sms", content: content() }).then(function (answer) {
        if (!answer.sms) return;
        document.getElementById("sms-count").textContent = answer.sms.characters + " · " + answer.sms.encoding + " · " + answer.sms.segments + " × " + answer.sms.perSegment;
      }).catch(function () {});
    }
  }

  function showErrors(errors, failure) {
    var box = document.getElementById("check-errors");
    box.textContent = "";
    errors.forEach(function (error) { box.appendChild(el("pre", { "class": "alert alert-danger small mb-1 template-error", "data-part": error.part, text: error.message })); });
    if (failure) box.appendChild(el("div", { "class": "alert alert-warning small template-failure", text: failure }));
  }

  function showPreview(parts, profile) {
    var box = document.getElementById("preview");
    box.textContent = "";
    if (profile) box.appendChild(el("div", { "class": "small text-muted mb-1 preview-profile", text: profile }));
    if (channel === "email") {
      box.appendChild(el("div", { "class": "small" }, [el("strong", { text: parts.subject || "" })]));
      box.appendChild(el("div", { "class": "small text-muted mb-1", text: (parts.fromName || "") + " · " + (parts.preheader || "") }));
      var frame = el("iframe", { id: "preview-frame", title: "preview", sandbox: "", style: "width:100%;height:560px;border:1px solid #ddd;background:#fff" });
      frame.srcdoc = parts.html || "";
      box.appendChild(frame);
      box.appendChild(el("details", { "class": "mt-1" }, [el("summary", { "class": "small", text: "text/plain" }), el("pre", { "class": "small", style: "white-space:pre-wrap", text: parts.text || "" })]));
    } else if (channel === "web_push" || channel === "mobile_push") {
      ["web", "mobile"].forEach(function (kind) {
        var card = el("div", { "class": "card mb-2 push-preview push-" + kind, style: kind === "mobile" ? "max-width:320px;border-radius:16px" : "max-width:380px" }, [
          el("div", { "class": "card-body p-2" }, [
            el("div", { "class": "small text-muted", text: kind === "web" ? "Web push" : "Mobile push" }),
            el("div", { "class": "fw-bold", text: parts.title || "" }), el("div", { "class": "small", text: parts.body || "" })
          ])
        ]);
        if (parts.image) card.appendChild(el("img", { src: parts.image, alt: "", "class": "card-img-bottom", style: "max-height:160px;object-fit:cover" }));
        var buttons = el("div", { "class": "d-flex gap-1 p-2" });
        for (var i = 0; i < 3; i++) if (parts["buttons[" + i + "].title"]) buttons.appendChild(el("span", { "class": "btn btn-sm btn-outline-secondary", text: parts["buttons[" + i + "].title"] }));
        card.appendChild(buttons);
        box.appendChild(card);
      });
    } else if (channel === "sms") {
      box.appendChild(el("div", { "class": "p-2 rounded bg-white border sms-preview", style: "white-space:pre-wrap;max-width:320px", text: parts.body || "" }));
    } else if (channel === "inbox") {
      box.appendChild(el("div", { "class": "fw-bold", text: parts.title || "" }));
      box.appendChild(el("div", { style: "white-space:pre-wrap", text: parts.body || "" }));
      if (parts.link) box.appendChild(el("a", { href: parts.link, text: parts.link }));
    } else {
      box.appendChild(el("pre", { "class": "small", style: "white-space:pre-wrap", text: parts.body || "" }));
    }
  }

  form.addEventListener("input", function (event) { if (!builder || !builder.contains(event.target)) schedule(); });
  document.getElementById("preview-profile").addEventListener("change", schedule);
  form.addEventListener("submit", function () { if (codeMirror) codeMirror.save(); if (designArea) designArea.value = JSON.stringify(design); });

  renderBuilder();
  if (channel === "email") showMode(); else schedule();
})();
