/* The preset cards fill the offer form in place (links reload with ?preset= without JS). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var card = event.target.closest("[data-preset]");
    if (!card) return;
    var form = document.getElementById("offer-form");
    if (!form) return;
    event.preventDefault();
    var initial = JSON.parse(card.dataset.initial);
    Object.keys(initial).forEach(function (name) {
      var field = form.elements[name];
      if (!field) return;
      var value = initial[name];
      if (field.type === "checkbox") field.checked = value === true || value === "True";
      else field.value = value === null ? "" : value;
    });
    document.querySelectorAll("[data-preset]").forEach(function (c) { c.classList.toggle("preset-on", c === card); });
    history.replaceState(null, "", "?preset=" + encodeURIComponent(card.dataset.preset));
  });
})();
