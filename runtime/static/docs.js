// Renders /openapi.json as a list of operations; no external resources.
"use strict";
(function () {
  var main = document.getElementById("paths");
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function resolve(doc, obj) {
    var seen = 0;
    while (obj && obj.$ref && seen++ < 20) {
      var parts = obj.$ref.replace(/^#\//, "").split("/");
      obj = parts.reduce(function (o, p) { return o ? o[p.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined; }, doc);
    }
    return obj;
  }
  function json(value) { return el("pre", {}, [JSON.stringify(value, null, 2)]); }
  function operation(doc, path, method, op) {
    var body = el("div", { "class": "body" }, []);
    if (op.description) body.appendChild(el("p", {}, [op.description]));
    if (op.parameters && op.parameters.length) {
      var rows = op.parameters.map(function (p) {
        p = resolve(doc, p);
        return el("tr", {}, [el("td", {}, [p.name || ""]), el("td", {}, [p["in"] || ""]),
          el("td", {}, [p.required ? "required" : ""]), el("td", {}, [p.description || ""])]);
      });
      body.appendChild(el("table", {}, [el("tr", {}, [el("th", {}, ["name"]), el("th", {}, ["in"]),
        el("th", {}, [""]), el("th", {}, ["description"])])].concat(rows)));
    }
    if (op.requestBody) {
      body.appendChild(el("h4", {}, ["request body"]));
      body.appendChild(json(resolve(doc, op.requestBody)));
    }
    Object.keys(op.responses || {}).forEach(function (code) {
      body.appendChild(el("h4", {}, ["response " + code]));
      body.appendChild(json(resolve(doc, op.responses[code])));
    });
    var summary = el("summary", {}, [el("span", { "class": "method " + method }, [method]), " " + path,
      op.summary ? " — " + op.summary : ""]);
    return el("details", { "data-search": (method + " " + path + " " + (op.summary || "")).toLowerCase() },
      [summary, body]);
  }
  fetch("/openapi.json").then(function (r) { return r.json(); }).then(function (doc) {
    var info = doc.info || {};
    document.getElementById("title").textContent = info.title || "API";
    document.getElementById("info").textContent = (info.version ? "version " + info.version + " · " : "") +
      (info.description || "");
    main.textContent = "";
    Object.keys(doc.paths || {}).forEach(function (path) {
      var item = doc.paths[path];
      ["get", "post", "put", "patch", "delete"].forEach(function (m) {
        if (item[m]) main.appendChild(operation(doc, path, m, item[m]));
      });
    });
    if (!main.children.length) main.textContent = "openapi.json 中没有接口 / no operations";
  }).catch(function (e) { main.textContent = "无法加载 openapi.json / cannot load: " + e; });
  document.getElementById("filter").addEventListener("input", function (ev) {
    var q = ev.target.value.toLowerCase();
    Array.prototype.forEach.call(main.children, function (d) {
      d.style.display = !q || (d.getAttribute("data-search") || "").indexOf(q) >= 0 ? "" : "none";
    });
  });
})();
