// « Trouver un service »: after htmx swaps in new results, it has also swapped each field's message
// (its error or its hint, out of band). Point every field at its message again: aria-invalid and
// aria-describedby for assistive technologies, the has-error class for the eye. The fields themselves
// are never replaced, so what is being typed is never lost. Without JavaScript the whole page is
// rendered by the server with the same attributes.
(function () {
  "use strict";
  if (window.parcoursFieldMessages) {
    return; // already listening (a boosted navigation ran this script again)
  }
  window.parcoursFieldMessages = true;

  function follow(field) {
    var box = document.getElementById(field.getAttribute("data-message"));
    if (!box) {
      return;
    }
    var error = box.querySelector(".field-error[id]");
    var note = error || box.querySelector("[id]");
    if (error) {
      field.setAttribute("aria-invalid", "true");
    } else {
      field.removeAttribute("aria-invalid");
    }
    if (note) {
      field.setAttribute("aria-describedby", note.id);
    } else {
      field.removeAttribute("aria-describedby");
    }
    var wrapper = field.closest(".field");
    if (wrapper) {
      wrapper.classList.toggle("has-error", Boolean(error));
    }
  }

  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-message]").forEach(follow);
  });
})();
