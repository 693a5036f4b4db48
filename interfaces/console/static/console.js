// Small and optional: the console works without it.
// A form sends once: its button is disabled after the first press (the form's key also
// makes a second send record nothing). The error summary takes the focus.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sent) { event.preventDefault(); return; }
  form.dataset.sent = "1";
  // After the form's values are taken (a disabled button would not send its own).
  setTimeout(function () { form.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); }, 0);
});
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
});
