/* Hamlet Box station: drag four handles over a page's source photo to set its corners.
   The handles write the form's x/y fields (source-photo pixels), which also work on their own
   when JavaScript is off; the form is posted as usual, CSRF token included. */
(function () {
  "use strict";
  var frame = document.querySelector(".cut");
  var form = document.querySelector("form.corners");
  if (!frame || !form) {
    return;
  }
  var width = Number(frame.getAttribute("data-width"));
  var height = Number(frame.getAttribute("data-height"));
  var labels = form.querySelectorAll(".corner strong");
  var svgNS = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(svgNS, "svg");
  var outline = document.createElementNS(svgNS, "polygon");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  outline.setAttribute("fill", "none");
  outline.setAttribute("stroke", "#ffdd00");
  outline.setAttribute("stroke-width", String(Math.max(width, height) / 200));
  svg.appendChild(outline);
  frame.appendChild(svg);

  function field(axis, i) {
    return form.querySelector("input[name=" + axis + i + "]");
  }

  function clamp(value, top) {
    return Math.min(Math.max(Math.round(value), 0), top - 1);
  }

  var handles = [];
  function draw() {
    var points = [];
    for (var i = 0; i < 4; i += 1) {
      var x = Number(field("x", i).value), y = Number(field("y", i).value);
      handles[i].style.left = (100 * (x + 0.5) / width) + "%";
      handles[i].style.top = (100 * (y + 0.5) / height) + "%";
      points.push(x + "," + y);
    }
    outline.setAttribute("points", points.join(" "));
  }

  function place(i, clientX, clientY) {
    var box = frame.getBoundingClientRect();
    field("x", i).value = clamp((clientX - box.left) / box.width * width, width);
    field("y", i).value = clamp((clientY - box.top) / box.height * height, height);
    draw();
  }

  function nudge(i, event) {
    var step = Math.max(1, Math.round(Math.max(width, height) / 200));
    var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    var move = moves[event.key];
    if (!move) {
      return;
    }
    event.preventDefault();
    field("x", i).value = clamp(Number(field("x", i).value) + move[0], width);
    field("y", i).value = clamp(Number(field("y", i).value) + move[1], height);
    draw();
  }

  function handle(i) {
    var dot = document.createElement("span");
    dot.className = "handle";
    dot.tabIndex = 0;
    dot.setAttribute("role", "button");
    dot.setAttribute("aria-label", labels[i] ? labels[i].textContent : String(i + 1));
    dot.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      dot.setPointerCapture(event.pointerId);
    });
    dot.addEventListener("pointermove", function (event) {
      if (dot.hasPointerCapture(event.pointerId)) {
        place(i, event.clientX, event.clientY);
      }
    });
    dot.addEventListener("keydown", function (event) { nudge(i, event); });
    frame.appendChild(dot);
    return dot;
  }

  for (var i = 0; i < 4; i += 1) {
    handles.push(handle(i));
  }
  form.addEventListener("input", draw);
  draw();
}());
