// The segment rule builder: edits the rule JSON in a textarea[data-rule-builder] as groups and
// conditions, offering for each field only the operators and value editors that fit its type,
// and shows the live count, a sample and every error at its place (POST …/segments/preview).
// Without JavaScript the textarea stays and takes the JSON as it is.
(function () {
  "use strict";

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

  function select(options, value, onchange, extra) {
    var node = el("select", Object.assign({ "class": "form-select form-select-sm w-auto", onchange: function () { onchange(node.value); } }, extra || {}));
    options.forEach(function (option) {
      var pair = Array.isArray(option) ? option : [option, option];
      var item = el("option", { value: pair[0], text: pair[1] });
      if (String(pair[0]) === String(value)) item.selected = true;
      node.appendChild(item);
    });
    return node;
  }

  function input(value, onchange, extra) {
    var node = el("input", Object.assign({ "class": "form-control form-control-sm w-auto", value: value === undefined || value === null ? "" : value }, extra || {}));
    node.addEventListener("input", function () { onchange(node.value); });
    return node;
  }

  // The same rule with every negated condition written as a negated group ({not: {all: [c]}}),
  // the one form of NOT the builder shows.
  function normalize(rule) {
    if (!rule || typeof rule !== "object") return rule;
    if (rule.all) rule.all = rule.all.map(normalize);
    if (rule.any) rule.any = rule.any.map(normalize);
    if (rule.not) rule.not = rule.not.all || rule.not.any ? normalize(rule.not) : { all: [normalize(rule.not)] };
    if (rule.related && rule.related.rule) rule.related.rule = normalize(rule.related.rule);
    return rule;
  }

  function Builder(textarea) {
    this.textarea = textarea;
    this.schema = JSON.parse(textarea.getAttribute("data-schema"));
    this.labels = this.schema.labels;
    this.previewURL = textarea.getAttribute("data-preview");
    this.csrf = (textarea.form && textarea.form.querySelector("input[name=_csrf]") || {}).value || "";
    try { this.rule = JSON.parse(textarea.value || "{}"); } catch (e) { this.rule = null; }
    if (!this.rule || typeof this.rule !== "object") this.rule = { all: [] };
    this.rule = normalize(this.rule);
    if (!this.rule.all && !this.rule.any && !this.rule.not) this.rule = { all: [this.rule] };
    this.root = el("div", { "class": "rule-builder mb-2", id: textarea.id + "-builder" });
    this.status = el("div", { "class": "rule-preview small mb-2", id: textarea.id + "-preview", "aria-live": "polite" });
    textarea.parentNode.insertBefore(this.root, textarea);
    textarea.parentNode.insertBefore(this.status, textarea);
    var details = el("details", { "class": "mt-1" }, [el("summary", { "class": "small text-muted", text: this.labels.json })]);
    textarea.parentNode.insertBefore(details, textarea);
    details.appendChild(textarea);
    var self = this;
    textarea.addEventListener("change", function () {
      try { self.rule = normalize(JSON.parse(textarea.value)); self.render(); } catch (e) { self.showErrors([{ path: "rule", message: e.message }]); }
    });
    this.render();
  }

  Builder.prototype.changed = function (structural) {
    this.textarea.value = JSON.stringify(this.rule);
    if (structural) this.render();
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.preview(); }, 300);
  };

  Builder.prototype.render = function () {
    this.root.textContent = "";
    this.root.appendChild(this.group(this.rule, "rule", null));
    this.textarea.value = JSON.stringify(this.rule);
    this.preview();
  };

  Builder.prototype.preview = function () {
    if (!this.previewURL) return;
    var self = this, sent = this.textarea.value;
    fetch(this.previewURL, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf },
      body: JSON.stringify({ rule: this.rule })
    }).then(function (response) { return response.json().then(function (body) { return [response.status, body]; }); })
      .then(function (answer) {
        if (sent !== self.textarea.value) return;  // a newer edit is on its way
        var status = answer[0], body = answer[1];
        if (status === 200) self.showCount(body);
        else self.showErrors(body.errors || [{ path: (body.error || {}).field || "rule", message: (body.error || {}).message || String(status) }]);
      })
      .catch(function () {});
  };

  Builder.prototype.showCount = function (body) {
    this.status.textContent = "";
    this.root.querySelectorAll(".is-invalid").forEach(function (node) { node.classList.remove("is-invalid"); });
    this.status.appendChild(el("strong", { "class": "builder-count", text: String(body.count) }));
    this.status.appendChild(document.createTextNode(" " + this.labels.matching + " "));
    var list = el("span", { "class": "builder-sample text-muted" });
    body.sample.forEach(function (item, index) {
      if (index) list.appendChild(document.createTextNode(", "));
      list.appendChild(el("span", { text: item.title }));
    });
    this.status.appendChild(list);
  };

  Builder.prototype.showErrors = function (errors) {
    this.status.textContent = "";
    var list = el("ul", { "class": "builder-errors text-danger mb-0" });
    var root = this.root;
    errors.forEach(function (error) {
      list.appendChild(el("li", { text: error.path + ": " + error.message }));
      var node = root.querySelector('[data-path="' + error.path.replace(/\.(value|kind|field|column|segment|date_column|within_last_days|count\.value|property|op)$/, "") + '"]');
      if (node) node.classList.add("is-invalid");
    });
    this.status.appendChild(el("div", { "class": "text-danger", text: this.labels.errors }));
    this.status.appendChild(list);
  };

  // A group: {all: […]} / {any: […]}, or either wrapped in {not: …}.
  Builder.prototype.group = function (node, path, onremove) {
    var self = this;
    var negated = !!node.not;
    var inner = negated ? node.not : node;
    var mode = inner.any ? "any" : "all";
    var list = inner[mode];
    var innerPath = negated ? path + ".not" : path;
    var box = el("div", { "class": "border rounded p-2 mb-2 rule-group", "data-path": innerPath });
    var head = el("div", { "class": "d-flex flex-wrap gap-2 align-items-center mb-2" }, [
      select([["all", this.labels.all], ["any", this.labels.any]], mode, function (value) {
        inner[value] = list; delete inner[value === "all" ? "any" : "all"]; self.changed(true);
      }, { "class": "form-select form-select-sm w-auto rule-mode" }),
      el("label", { "class": "form-check-label small" }, [
        (function () {
          var box = el("input", { type: "checkbox", "class": "form-check-input me-1 rule-not" });
          box.checked = negated;
          box.addEventListener("change", function () {
            if (box.checked) { var copy = {}; copy[mode] = list; Object.keys(node).forEach(function (k) { delete node[k]; }); node.not = copy; }
            else { Object.keys(node).forEach(function (k) { delete node[k]; }); node[mode] = list; }
            self.changed(true);
          });
          return box;
        })(),
        document.createTextNode(this.labels.not)
      ]),
      el("button", { type: "button", "class": "btn btn-sm btn-outline-primary add-condition", text: "+ " + this.labels.add_condition, onclick: function () {
        list.push(self.defaultCondition("field")); self.changed(true);
      } }),
      el("button", { type: "button", "class": "btn btn-sm btn-outline-secondary add-group", text: "+ " + this.labels.add_group, onclick: function () {
        list.push({ any: [] }); self.changed(true);
      } }),
      onremove ? el("button", { type: "button", "class": "btn btn-sm btn-link text-danger", text: this.labels.remove, onclick: onremove }) : null
    ]);
    box.appendChild(head);
    list.forEach(function (child, index) {
      var childPath = innerPath + "." + mode + "[" + index + "]";
      var remove = function () { list.splice(index, 1); self.changed(true); };
      var isGroup = child.all || child.any || (child.not && (child.not.all || child.not.any));
      box.appendChild(isGroup ? self.group(child, childPath, remove) : self.condition(list, index, childPath, remove));
    });
    return box;
  };

  Builder.prototype.kindOf = function (condition) {
    var kinds = ["subscription", "activity", "table", "segment", "related", "field"];
    for (var i = 0; i < kinds.length; i++) if (condition[kinds[i]] !== undefined) return kinds[i];
    return "field";
  };

  Builder.prototype.defaultCondition = function (kind) {
    var s = this.schema;
    var first = s.fields.filter(function (f) { return f.type !== "table"; })[0] || s.fields[0];
    var table = s.fields.filter(function (f) { return f.type === "table"; })[0];
    switch (kind) {
      case "subscription": return { subscription: { channel: "email", status: "active" } };
      case "activity": return { activity: { kind: "message.opened", within_last_days: 30 } };
      case "table": return table ? { table: { field: table.key, aggregate: "count", op: "gte", value: 1 } } : this.defaultCondition("field");
      case "segment": return s.segments.length ? { segment: s.segments[0].id } : this.defaultCondition("field");
      case "related": return { related: { kind: "referrer", direction: "outgoing", rule: { all: [] } } };
      default: return { field: first.key, op: first.operators.indexOf("eq") >= 0 ? "eq" : first.operators[0], value: "" };
    }
  };

  Builder.prototype.condition = function (list, index, path, remove) {
    var self = this, condition = list[index], kind = this.kindOf(condition);
    var row = el("div", { "class": "d-flex flex-wrap gap-2 align-items-center mb-2 rule-condition", "data-path": path });
    var kinds = [["field", this.labels.field], ["subscription", this.labels.subscription], ["activity", this.labels.activity], ["related", this.labels.related]];
    if (this.schema.fields.some(function (f) { return f.type === "table"; })) kinds.splice(3, 0, ["table", this.labels.table]);
    if (this.schema.segments.length) kinds.splice(kinds.length - 1, 0, ["segment", this.labels.segment]);
    row.appendChild(select(kinds, kind, function (value) { list[index] = self.defaultCondition(value); self.changed(true); }, { "class": "form-select form-select-sm w-auto rule-kind" }));
    var editors = { field: this.fieldEditor, subscription: this.subscriptionEditor, activity: this.activityEditor, table: this.tableEditor, segment: this.segmentEditor, related: this.relatedEditor };
    editors[kind].call(this, condition, row, path);
    row.appendChild(el("button", { type: "button", "class": "btn btn-sm btn-link text-danger", text: this.labels.remove, onclick: remove }));
    return row;
  };

  // A value editor that fits the field type and the operator.
  Builder.prototype.valueEditor = function (field, op, holder, key, row) {
    var self = this, value = holder[key];
    if (op === "empty" || op === "not_empty") { delete holder[key]; return; }
    var numeric = field.type === "integer" || field.type === "decimal";
    var parse = function (text) { return numeric && text !== "" && !isNaN(Number(text)) ? Number(text) : text; };
    var type = field.type === "date" ? "date" : (numeric ? "number" : "text");
    if (op === "in_next_days" || op === "within_last_days") {
      row.appendChild(input(value, function (text) { holder[key] = Number(text); self.changed(false); }, { type: "number", min: 0, "class": "form-control form-control-sm rule-value", style: "width:6em" }));
      row.appendChild(el("span", { "class": "small", text: this.labels.within_last_days }));
      return;
    }
    if (op === "in" || op === "not_in") {
      var items = Array.isArray(value) ? value : (value === undefined || value === "" ? [] : [value]);
      holder[key] = items;
      if (field.type === "enumeration") {
        var multi = select(field.options, null, function () {}, { multiple: "multiple", "class": "form-select form-select-sm w-auto rule-value" });
        Array.prototype.forEach.call(multi.options, function (o) { o.selected = items.indexOf(o.value) >= 0; });
        multi.addEventListener("change", function () {
          holder[key] = Array.prototype.filter.call(multi.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
          self.changed(false);
        });
        row.appendChild(multi);
        return;
      }
      row.appendChild(input(items.join(", "), function (text) {
        holder[key] = text.split(",").map(function (part) { return parse(part.trim()); }).filter(function (part) { return part !== ""; });
        self.changed(false);
      }, { "class": "form-control form-control-sm rule-value", placeholder: "a, b, c", style: "width:16em" }));
      return;
    }
    if (op === "between") {
      var bounds = Array.isArray(value) && value.length === 2 ? value : ["", ""];
      holder[key] = bounds;
      [0, 1].forEach(function (i) {
        row.appendChild(input(bounds[i], function (text) { bounds[i] = parse(text); self.changed(false); }, { type: type, "class": "form-control form-control-sm rule-value", style: "width:10em" }));
      });
      return;
    }
    if (field.type === "boolean") {
      if (typeof value !== "boolean") holder[key] = value = true;
      row.appendChild(select([["true", this.labels.yes], ["false", this.labels.no]], String(value), function (v) { holder[key] = v === "true"; self.changed(false); }, { "class": "form-select form-select-sm w-auto rule-value" }));
      return;
    }
    if (field.type === "enumeration" && (op === "eq" || op === "ne")) {
      if (field.options.indexOf(value) < 0) holder[key] = value = field.options[0];
      row.appendChild(select(field.options, value, function (v) { holder[key] = v; self.changed(false); }, { "class": "form-select form-select-sm w-auto rule-value" }));
      return;
    }
    row.appendChild(input(value, function (text) { holder[key] = parse(text); self.changed(false); },
      { type: field.type === "date_time" ? "text" : type, "class": "form-control form-control-sm rule-value", style: "width:14em", placeholder: field.type === "date_time" ? "2026-01-31T00:00:00Z" : "" }));
  };

  Builder.prototype.fieldEditor = function (condition, row) {
    var self = this, fields = this.schema.fields;
    var field = fields.filter(function (f) { return f.key === condition.field; })[0];
    var choices = fields.map(function (f) { return [f.key, f.title]; });
    if (!field) {
      // A field the schema no longer has: shown as it is (the preview names the error) until replaced.
      choices.unshift([condition.field, condition.field + " ?"]);
      field = { key: condition.field, type: "string", operators: [condition.op], options: [] };
    }
    row.appendChild(select(choices, field.key, function (key) {
      var next = fields.filter(function (f) { return f.key === key; })[0];
      condition.field = key;
      if (next.operators.indexOf(condition.op) < 0) condition.op = next.operators.indexOf("eq") >= 0 ? "eq" : next.operators[0];
      condition.value = "";
      self.changed(true);
    }, { "class": "form-select form-select-sm w-auto rule-field" }));
    row.appendChild(select(field.operators, condition.op, function (op) { condition.op = op; self.changed(true); }, { "class": "form-select form-select-sm w-auto rule-op" }));
    this.valueEditor(field, condition.op, condition, "value", row);
  };

  Builder.prototype.subscriptionEditor = function (condition, row) {
    var self = this, s = condition.subscription;
    row.appendChild(select(this.schema.channels, s.channel, function (v) { s.channel = v; self.changed(false); }, { "class": "form-select form-select-sm w-auto rule-channel" }));
    row.appendChild(select([["", this.labels.any_status]].concat(this.schema.statuses), s.status || "", function (v) {
      if (v) s.status = v; else delete s.status; self.changed(false);
    }, { "class": "form-select form-select-sm w-auto rule-status" }));
    row.appendChild(input(s.resource, function (v) { if (v) s.resource = v; else delete s.resource; self.changed(false); }, { placeholder: this.labels.resource, "class": "form-control form-control-sm w-auto" }));
  };

  Builder.prototype.countEditor = function (holder, row) {
    var self = this, count = holder.count || { op: "gte", value: 1 };
    row.appendChild(el("span", { "class": "small", text: this.labels.count }));
    row.appendChild(select(this.schema.comparisons, count.op, function (v) { count.op = v; holder.count = count; self.changed(false); }, { "class": "form-select form-select-sm w-auto rule-count-op" }));
    row.appendChild(input(count.value, function (v) { count.value = Number(v); holder.count = count; self.changed(false); }, { type: "number", min: 0, "class": "form-control form-control-sm rule-count", style: "width:5em" }));
  };

  Builder.prototype.daysEditor = function (holder, row) {
    var self = this;
    row.appendChild(input(holder.within_last_days, function (v) {
      if (v === "") delete holder.within_last_days; else holder.within_last_days = Number(v); self.changed(false);
    }, { type: "number", min: 0, "class": "form-control form-control-sm rule-days", style: "width:5em" }));
    row.appendChild(el("span", { "class": "small", text: this.labels.within_last_days }));
  };

  Builder.prototype.activityEditor = function (condition, row) {
    var self = this, a = condition.activity, listId = "activity-kinds";
    if (!document.getElementById(listId)) {
      document.body.appendChild(el("datalist", { id: listId }, this.schema.activityKinds.map(function (k) { return el("option", { value: k }); })));
    }
    row.appendChild(input(a.kind, function (v) { a.kind = v; self.changed(false); }, { list: listId, placeholder: this.labels.kind, "class": "form-control form-control-sm w-auto rule-activity-kind" }));
    var where = (a.where || [])[0] || { property: "", op: "eq", value: "" };
    row.appendChild(el("span", { "class": "small", text: this.labels.where }));
    row.appendChild(input(where.property, function (v) {
      where.property = v; a.where = v ? [where].concat((a.where || []).slice(1)) : (a.where || []).slice(1); if (!a.where.length) delete a.where; self.changed(false);
    }, { placeholder: this.labels.property, "class": "form-control form-control-sm rule-property", style: "width:8em" }));
    row.appendChild(select(["eq", "ne", "contains", "starts_with", "regex", "gt", "gte", "lt", "lte"], where.op, function (v) { where.op = v; self.changed(false); }, { "class": "form-select form-select-sm w-auto" }));
    row.appendChild(input(where.value, function (v) { where.value = v !== "" && !isNaN(Number(v)) && /^(gt|gte|lt|lte)$/.test(where.op) ? Number(v) : v; self.changed(false); },
      { placeholder: this.labels.value, "class": "form-control form-control-sm rule-property-value", style: "width:8em" }));
    this.daysEditor(a, row);
    this.countEditor(a, row);
  };

  Builder.prototype.tableEditor = function (condition, row) {
    var self = this, t = condition.table;
    var tables = this.schema.fields.filter(function (f) { return f.type === "table"; });
    var table = tables.filter(function (f) { return f.key === t.field; })[0] || tables[0];
    row.appendChild(select(tables.map(function (f) { return [f.key, f.title]; }), table.key, function (v) { t.field = v; delete t.column; delete t.date_column; self.changed(true); }, { "class": "form-select form-select-sm w-auto rule-table" }));
    row.appendChild(select(this.schema.aggregates, t.aggregate || "count", function (v) { t.aggregate = v; if (v === "count") delete t.column; self.changed(true); }, { "class": "form-select form-select-sm w-auto rule-aggregate" }));
    if ((t.aggregate || "count") !== "count") {
      var columns = table.columns.filter(function (c) { return ["integer", "decimal", "date", "date_time"].indexOf(c.type) >= 0; });
      if (!t.column && columns.length) t.column = columns[0].key;
      row.appendChild(select(columns.map(function (c) { return [c.key, c.title]; }), t.column, function (v) { t.column = v; self.changed(false); }, { "class": "form-select form-select-sm w-auto rule-column" }));
    }
    row.appendChild(select(this.schema.comparisons, t.op || "gte", function (v) { t.op = v; self.changed(false); }, { "class": "form-select form-select-sm w-auto rule-op" }));
    row.appendChild(input(t.value, function (v) { t.value = v !== "" && !isNaN(Number(v)) ? Number(v) : v; self.changed(false); }, { "class": "form-control form-control-sm rule-value", style: "width:7em" }));
    var dates = table.columns.filter(function (c) { return c.type === "date" || c.type === "date_time"; });
    if (dates.length) {
      row.appendChild(select([["", this.labels.none]].concat(dates.map(function (c) { return [c.key, c.title]; })), t.date_column || "", function (v) {
        if (v) t.date_column = v; else { delete t.date_column; delete t.within_last_days; } self.changed(true);
      }, { "class": "form-select form-select-sm w-auto rule-date-column", title: this.labels.date_column }));
      if (t.date_column) this.daysEditor(t, row);
    }
  };

  Builder.prototype.segmentEditor = function (condition, row) {
    var self = this;
    row.appendChild(select(this.schema.segments.map(function (s) { return [s.id, s.name]; }), condition.segment, function (v) { condition.segment = v; self.changed(false); }, { "class": "form-select form-select-sm w-auto rule-segment" }));
  };

  Builder.prototype.relatedEditor = function (condition, row, path) {
    var self = this, r = condition.related;
    row.appendChild(input(r.kind, function (v) { r.kind = v; self.changed(false); }, { list: "relation-kinds", "class": "form-control form-control-sm w-auto rule-relation-kind", style: "width:8em" }));
    if (!document.getElementById("relation-kinds")) {
      document.body.appendChild(el("datalist", { id: "relation-kinds" }, this.schema.relationKinds.map(function (k) { return el("option", { value: k }); })));
    }
    row.appendChild(select([["outgoing", this.labels.outgoing], ["incoming", this.labels.incoming], ["any", this.labels.either]], r.direction || "outgoing",
      function (v) { r.direction = v; self.changed(false); }, { "class": "form-select form-select-sm w-auto" }));
    row.appendChild(el("span", { "class": "small", text: this.labels.who }));
    if (!r.rule || (!r.rule.all && !r.rule.any && !r.rule.not)) r.rule = { all: r.rule ? [r.rule] : [] };
    var nested = el("div", { "class": "w-100 ps-4" }, [this.group(r.rule, path + ".related.rule", null)]);
    row.appendChild(nested);
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-rule-builder]").forEach(function (textarea) { new Builder(textarea); });
  });
})();
