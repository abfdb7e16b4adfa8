// Studio: drag-and-drop reordering of the curriculum. Without JavaScript (or without a
// pointer) the ↑ ↓ buttons do the same with plain forms; this only adds dragging.
// On drop, the hidden order form gets the list as it now is on screen and is submitted
// through htmx, which swaps the curriculum the server sends back.
(function () {
  "use strict";
  var dragged = null;

  function kindOf(item) {
    return item.classList.contains("studio-chapter") ? "chapter" : "lecture";
  }

  function enable(root) {
    root.querySelectorAll(".studio-chapter, .studio-lecture").forEach(function (item) {
      item.setAttribute("draggable", "true");
    });
    root.querySelectorAll("[data-drag-help]").forEach(function (el) { el.hidden = false; });
  }

  function writeOrder(section) {
    var form = section.querySelector("[data-order-form]");
    if (!form) { return null; }
    form.querySelectorAll("input[name='chapter'], input[name^='lectures-']").forEach(function (el) {
      el.remove();
    });
    section.querySelectorAll(".studio-chapter").forEach(function (chapter) {
      var id = chapter.dataset.chapterId;
      form.appendChild(hidden("chapter", id));
      chapter.querySelectorAll(".studio-lecture").forEach(function (lecture) {
        form.appendChild(hidden("lectures-" + id, lecture.dataset.lectureId));
      });
    });
    return form;
  }

  function hidden(name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    return input;
  }

  function dropTarget(event) {
    if (!dragged) { return null; }
    var kind = kindOf(dragged);
    var over = event.target.closest(kind === "chapter" ? ".studio-chapter" : ".studio-lecture");
    if (over && over !== dragged && over.parentElement.closest("#curriculum")) { return over; }
    // A lecture dropped on a chapter with no lectures (or on its list) goes to its end.
    if (kind === "lecture") { return event.target.closest(".studio-lectures"); }
    return null;
  }

  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest(".studio-chapter, .studio-lecture");
    if (!item || !item.closest("#curriculum")) { return; }
    if (item.classList.contains("studio-chapter") && event.target.closest(".studio-lecture")) { return; }
    dragged = item;
    item.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.chapterId || item.dataset.lectureId || "");
    event.stopPropagation();
  });

  document.addEventListener("dragover", function (event) {
    if (dropTarget(event)) { event.preventDefault(); }
  });

  document.addEventListener("drop", function (event) {
    var target = dropTarget(event);
    if (!target) { return; }
    event.preventDefault();
    if (target.classList.contains("studio-lectures")) {
      target.appendChild(dragged);
    } else {
      var box = target.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      target.parentElement.insertBefore(dragged, after ? target.nextSibling : target);
    }
    var form = writeOrder(dragged.closest("#curriculum"));
    if (form && window.htmx) { window.htmx.trigger(form, "submit"); }
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("is-dragging"); }
    dragged = null;
  });

  function init(root) {
    if (root.querySelector && (root.id === "curriculum" || root.querySelector("#curriculum"))) {
      enable(root.id === "curriculum" ? root : root.querySelector("#curriculum"));
    }
  }

  document.addEventListener("DOMContentLoaded", function () { init(document.body); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
